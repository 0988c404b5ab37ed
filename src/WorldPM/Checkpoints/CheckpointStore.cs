using System.Globalization;

namespace WorldPM.Checkpoints;

/// <summary>
/// The checkpoints of one training run, laid out so that an interrupted run resumes from the last good
/// checkpoint whatever moment it was killed at:
/// <code>
/// run/
///   latest                      "step-1200\n": the committed checkpoint (replaced atomically)
///   step-1000/                  an older complete checkpoint (kept while KeepLast allows)
///   step-1200/
///     config.json               \
///     model.safetensors          | see ModelCheckpoint (or an index and shards)
///     training_state.safetensors   see TrainingStateFile: optimizer moments, step, scaler, RNG, data position
///   step-1400.tmp/              a save that was interrupted: never read, deleted by the next save
/// </code>
/// </summary>
/// <remarks>
/// <para><see cref="Save"/> commits in this order, each step durable before the next:</para>
/// <list type="number">
/// <item>create <c>step-N.tmp/</c> (deleting a leftover one) and let the caller write every file into it
/// (each written with <see cref="AtomicFile"/>, so each is fsynced);</item>
/// <item>fsync <c>step-N.tmp/</c>, rename it to <c>step-N/</c>, fsync the run directory: from here
/// <c>step-N/</c> exists only complete, because a directory rename is atomic;</item>
/// <item>replace <c>latest</c> atomically with <c>step-N</c>;</item>
/// <item>delete checkpoints beyond <see cref="KeepLast"/> and leftover <c>.tmp</c> directories.</item>
/// </list>
/// <para>A crash in 1 leaves only a <c>.tmp</c> directory, which resuming ignores; a crash between 2 and 3
/// leaves <c>latest</c> on the previous step, itself complete. <see cref="LatestDirectory"/> follows
/// <c>latest</c> and, when it is missing, unreadable or names a directory that is gone, falls back to the
/// highest-numbered <c>step-N/</c>, which is complete by construction. One writer per run directory.</para>
/// </remarks>
public sealed class CheckpointStore
{
    /// <summary>The pointer file's name.</summary>
    public const string LatestFileName = "latest";

    private const string StepPrefix = "step-";
    private const string TempSuffix = ".tmp";

    /// <summary>Uses <paramref name="root"/> (created if needed) for the run's checkpoints.</summary>
    public CheckpointStore(string root, int keepLast = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keepLast);
        Root = Path.GetFullPath(root);
        KeepLast = keepLast;
        Directory.CreateDirectory(Root);
    }

    /// <summary>The run directory.</summary>
    public string Root { get; }

    /// <summary>How many committed checkpoints to keep (the newest); 0 keeps all.</summary>
    public int KeepLast { get; }

    /// <summary>The directory checkpoint <paramref name="step"/> has (or will have) once committed.</summary>
    public string DirectoryOf(long step) => Path.Combine(Root, StepPrefix + step.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Saves checkpoint <paramref name="step"/>: <paramref name="writeContents"/> writes every file into the
    /// directory it is given; when it returns, the checkpoint is committed and becomes the latest.
    /// If it throws, nothing is committed and the previous latest checkpoint stays. Returns the committed directory.
    /// </summary>
    public string Save(long step, Action<string> writeContents)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentNullException.ThrowIfNull(writeContents);
        string final = DirectoryOf(step);
        string temp = final + TempSuffix;
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        try
        {
            writeContents(temp);
            DirectorySync.Flush(temp);
        }
        catch
        {
            TryDeleteDirectory(temp);
            throw;
        }

        if (Directory.Exists(final))
        {
            // Saving a step again (e.g. after resuming from it): set the old copy aside first, since a
            // directory cannot be renamed over a non-empty one. Until the rename below, LatestDirectory
            // falls back to the newest other step.
            string replaced = final + ".replaced" + TempSuffix;
            if (Directory.Exists(replaced)) Directory.Delete(replaced, recursive: true);
            Directory.Move(final, replaced);
        }
        Directory.Move(temp, final);
        DirectorySync.Flush(Root);
        AtomicFile.WriteAllText(Path.Combine(Root, LatestFileName), Path.GetFileName(final) + "\n");
        Prune(step);
        return final;
    }

    /// <summary>The directory of the last committed checkpoint, or null when the run has none.</summary>
    public string? LatestDirectory()
    {
        long? step = LatestStep();
        return step is { } s ? DirectoryOf(s) : null;
    }

    /// <summary>The step of the last committed checkpoint, or null when the run has none.</summary>
    public long? LatestStep()
    {
        string pointer = Path.Combine(Root, LatestFileName);
        if (File.Exists(pointer) && TryParseStep(File.ReadAllText(pointer).Trim(), out long step) && Directory.Exists(DirectoryOf(step)))
            return step;
        var steps = Steps();
        return steps.Count > 0 ? steps[^1] : null;
    }

    /// <summary>The steps of every committed checkpoint directory, ascending (in-progress <c>.tmp</c> ones excluded).</summary>
    public IReadOnlyList<long> Steps() =>
        Directory.EnumerateDirectories(Root)
            .Select(d => TryParseStep(Path.GetFileName(d), out long s) ? s : -1)
            .Where(s => s >= 0)
            .Order()
            .ToList();

    private static bool TryParseStep(string name, out long step)
    {
        // Only the canonical spelling DirectoryOf produces: "step-12", not "step-012" or "step-12.tmp".
        step = -1;
        return name.StartsWith(StepPrefix, StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(StepPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out step)
            && name == StepPrefix + step.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Removes leftover .tmp directories and the checkpoints beyond KeepLast, never <paramref name="latest"/>.</summary>
    private void Prune(long latest)
    {
        foreach (var dir in Directory.EnumerateDirectories(Root, StepPrefix + "*" + TempSuffix))
            TryDeleteDirectory(dir);
        if (KeepLast == 0) return;
        var steps = Steps();
        foreach (long old in steps.Take(Math.Max(0, steps.Count - KeepLast)).Where(s => s != latest))
            TryDeleteDirectory(DirectoryOf(old));
    }

    private static void TryDeleteDirectory(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
