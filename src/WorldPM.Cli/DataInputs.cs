using WorldPM.Data;

namespace WorldPM.Cli;

/// <summary>Loads the preference data a command line names and reports what each path gave.</summary>
internal static class DataInputs
{
    /// <summary>How many bad records are listed per path; the rest are counted.</summary>
    public const int ListedBadRecords = 3;

    /// <summary>Fails with a usage error naming the first path that does not exist.</summary>
    public static void RequireExisting(IEnumerable<string> paths, string what)
    {
        foreach (string path in paths)
            if (!File.Exists(path) && !Directory.Exists(path))
                throw new UsageException($"{what} '{path}' does not exist");
    }

    /// <summary>
    /// The pairs of every path in order, with one summary line per path on <paramref name="log"/>; for a folder (or
    /// several files) also one line per file (its format, pairs, bad and skipped records, tied comparisons when there are
    /// any; files that gave no pair stand out) and one per file left out with the reason; then the first bad records.
    /// </summary>
    public static LoadedData Load(IReadOnlyList<string> paths, DataLoadOptions options, string what, TextWriter? log)
    {
        RequireExisting(paths, what);
        var pairs = new List<PreferencePair>();
        int bad = 0;
        foreach (string path in paths)
        {
            LoadResult result = PreferenceDataset.Load(path, options);
            pairs.AddRange(result.Pairs);
            bad += result.BadRecordCount;
            Report(path, result, what, log);
        }
        return new LoadedData(pairs, bad);
    }

    /// <summary>What <paramref name="path"/> gave, as <see cref="Load"/> logs it: its summary line, a folder's files, the
    /// first bad records.</summary>
    public static void Report(string path, LoadResult result, string what, TextWriter? log)
    {
        log?.WriteLine($"{what} {path}: {result.Summary()}");
        if (Directory.Exists(path)) LogFiles(result, path, log);
        foreach (RecordIssue issue in result.BadRecords.Take(ListedBadRecords))
            log?.WriteLine($"  bad record {issue}");
        if (result.BadRecordCount > ListedBadRecords)
            log?.WriteLine($"  ... and {result.BadRecordCount - ListedBadRecords} more bad records (--strict stops at the first)");
    }

    private static void LogFiles(LoadResult result, string folder, TextWriter? log)
    {
        foreach (LoadedFile file in result.Files)
        {
            string format = file.Format == DataFormat.Auto ? "format unknown" : DataFormatNames.Name(file.Format);
            string none = file.Pairs == 0 ? "  <- no pairs" : "";
            string tied = file.TiedComparisons > 0 ? $", {file.TiedComparisons} tied" : "";
            log?.WriteLine($"  {Path.GetRelativePath(folder, file.Path)} ({format}): {file.Pairs} pairs, {file.BadRecords} bad, " +
                $"{file.SkippedRecords} skipped{tied}{none}");
        }
        foreach (string ignored in result.IgnoredFiles)
            log?.WriteLine($"  {Path.GetRelativePath(folder, ignored)}: left out (a folder load reads " +
                $"{string.Join(", ", PreferenceDataset.DataFileExtensions)}, each also .gz)");
    }
}

/// <summary>The pairs loaded from a command line's data paths and how many records were bad.</summary>
internal sealed record LoadedData(List<PreferencePair> Pairs, int BadRecords);
