using System.Diagnostics;
using WorldPM.Data;
using WorldPM.Tokenization;

namespace WorldPM.Cli;

/// <summary>
/// Raw data given to <c>train</c> or <c>eval</c>, prepared on the fly into a token store (<see cref="TokenStorePreparation"/>,
/// what <c>worldpm prepare</c> writes) and read from it like a prepared one, so raw data and stores take one path in
/// bounded memory. The store lives in a scratch folder of its own (under the run directory, or the system temp folder)
/// that is removed when this is disposed, and asked to be removed on process exit; where the system lets an
/// open file be unlinked (not Windows) it is removed as soon as the store is mapped. SIGINT (Ctrl-C) or SIGTERM while
/// preparing stops the preparation at its next pair, removes the folder and ends the command with
/// <see cref="CommandInterruptedException"/>; after it, either signal removes the folder and lets the process end as it
/// would. A folder left by a process killed while preparing (SIGKILL) is removed by the next preparation in the same
/// place (the folder names its process).
/// </summary>
internal sealed class TemporaryTokenStore : IDisposable
{
    /// <summary>Seconds between two progress lines while preparing.</summary>
    private const double ProgressSeconds = 10;

    private readonly string _folder;
    private readonly PreparationSignals _signals;
    private TokenStore? _store;

    private TemporaryTokenStore(string folder)
    {
        _folder = folder;
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        _signals = new PreparationSignals(RemoveFolder);
    }

    /// <summary>The prepared store, open.</summary>
    public TokenStore Store => _store ?? throw new InvalidOperationException("the temporary token store is not prepared");

    /// <summary>What reading the data gave: each path's account, the truncation, the pairs without a margin.</summary>
    public TokenStorePreparation Preparation { get; private set; } = null!;

    /// <summary>
    /// Prepares <paramref name="paths"/> into a new store in a scratch folder under <paramref name="parent"/> (the system
    /// temp folder when null), for a model reading ids of <paramref name="tokenizer"/> up to <paramref name="maxLength"/>
    /// ending in <paramref name="scoring"/>. Logs on <paramref name="log"/> a line saying so, a progress line every few
    /// seconds, then what each path gave as <see cref="DataInputs.Report"/> does, named <paramref name="what"/>.
    /// </summary>
    public static TemporaryTokenStore Prepare(IReadOnlyList<string> paths, string? parent, DataLoadOptions loading,
        ITokenizer tokenizer, string tokenizerName, ScoringToken scoring, int maxLength, string what, TextWriter? log)
    {
        string root = Path.GetFullPath(parent ?? Path.GetTempPath());
        RemoveOrphans(root);
        string folder = Path.Combine(root, $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        // The signal handlers are in place before the folder exists, so no signal finds a folder it would not remove.
        var temporary = new TemporaryTokenStore(folder);
        try
        {
            Directory.CreateDirectory(folder);
            long total = paths.Sum(TokenStorePreparation.InputBytes);
            log?.WriteLine($"preparing {what} {string.Join(", ", paths)} ({Megabytes(total)}) into a temporary token store in {folder}");
            string store = Path.Combine(folder, "pairs.store");
            var clock = Stopwatch.StartNew();
            double next = ProgressSeconds;
            temporary.Preparation = TokenStorePreparation.Run(paths, store, loading, tokenizer, tokenizerName, scoring, maxLength, p =>
            {
                if (log is null || clock.Elapsed.TotalSeconds < next) return;
                next = clock.Elapsed.TotalSeconds + ProgressSeconds;
                log.WriteLine($"  {what}: {Megabytes(p.BytesRead)} of {Megabytes(p.TotalBytes)} read " +
                    $"({(double)p.BytesRead / Math.Max(1, p.TotalBytes):P0}), {p.Pairs} pairs, {p.Tokens} tokens");
            }, temporary._signals.Token);
            temporary._signals.EndPreparation();
            foreach (PreparedPath path in temporary.Preparation.Paths) DataInputs.Report(path.Path, path.Result, what, log);
            temporary._store = TokenStore.Open(store);
            if (!OperatingSystem.IsWindows()) temporary.RemoveFolder();
            return temporary;
        }
        catch (OperationCanceledException e) when (temporary._signals.Interrupted(e, $"preparing {what}") is { } interrupted)
        {
            temporary.Dispose();
            throw interrupted;
        }
        catch
        {
            temporary.Dispose();
            throw;
        }
    }

    /// <summary>How many of the store's pairs at <paramref name="indices"/> (all when null) carry no margin, and where the
    /// first of them was read: its file and line when it is the first of all the data, else its file.</summary>
    public (long Without, string? First) PairsWithoutMargin(IReadOnlyList<int>? indices)
    {
        if (indices is null) return (Preparation.PairsWithoutMargin, Preparation.FirstWithoutMargin?.Location);
        long without = 0;
        int? first = null;
        foreach (int index in indices)
            if (!Store.HasMargin(index) && without++ == 0) first = index;
        string? location = first is not int pair ? null
            : Preparation.FirstWithoutMargin is { } known && known.Pair == pair ? known.Location
            : Store.Metadata.Sources[Store.SourceOf(pair)].Path;
        return (without, location);
    }

    /// <summary>Scratch folders are named this, then the preparing process's id and a random part.</summary>
    private const string FolderPrefix = ".worldpm-prepared-";

    /// <summary>Removes the scratch folders in <paramref name="root"/> whose process is gone (killed before it could
    /// clean up): a process's folder carries its id, and no live process with that id means nobody reads it. A folder
    /// written to in the last <see cref="OrphanQuietTime"/> is left alone even so: in a shared temp folder its writer
    /// may be a live process of another PID namespace (a container) whose id means nothing here.</summary>
    private static void RemoveOrphans(string root)
    {
        if (!Directory.Exists(root)) return;
        foreach (string folder in Directory.EnumerateDirectories(root, FolderPrefix + "*"))
        {
            string[] parts = Path.GetFileName(folder)[FolderPrefix.Length..].Split('-');
            if (parts.Length == 2 && int.TryParse(parts[0], out int pid) && !IsRunning(pid) && !RecentlyWritten(folder))
                Remove(folder);
        }
    }

    private static readonly TimeSpan OrphanQuietTime = TimeSpan.FromMinutes(10);

    private static bool RecentlyWritten(string folder)
    {
        try
        {
            DateTime cutoff = DateTime.UtcNow - OrphanQuietTime;
            return Directory.GetLastWriteTimeUtc(folder) > cutoff
                || Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any(f => File.GetLastWriteTimeUtc(f) > cutoff);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static string Megabytes(long bytes) => $"{bytes / 1e6:F1} MB";

    private void OnExit(object? sender, EventArgs e) => RemoveFolder();

    /// <summary>Removes the scratch folder and all in it (the store, the writer's temp and spill files); a failure to
    /// remove is left alone, as the process is ending or the folder is already gone.</summary>
    private void RemoveFolder() => Remove(_folder);

    private static void Remove(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    public void Dispose()
    {
        _store?.Dispose();
        _store = null;
        RemoveFolder();
        AppDomain.CurrentDomain.ProcessExit -= OnExit;
        _signals.Dispose();
    }
}
