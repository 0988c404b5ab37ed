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

    /// <summary>The pairs of every path in order, with one summary line per path (and its first bad records) on <paramref name="log"/>.</summary>
    public static LoadedData Load(IReadOnlyList<string> paths, bool strict, string what, TextWriter? log)
    {
        RequireExisting(paths, what);
        var options = new DataLoadOptions { Strict = strict };
        var pairs = new List<PreferencePair>();
        int bad = 0;
        foreach (string path in paths)
        {
            LoadResult result = PreferenceDataset.Load(path, options);
            pairs.AddRange(result.Pairs);
            bad += result.BadRecords.Count;
            log?.WriteLine($"{what} {path}: {result.Summary()}");
            foreach (RecordIssue issue in result.BadRecords.Take(ListedBadRecords))
                log?.WriteLine($"  bad record {issue}");
            if (result.BadRecords.Count > ListedBadRecords)
                log?.WriteLine($"  ... and {result.BadRecords.Count - ListedBadRecords} more bad records (--strict stops at the first)");
        }
        return new LoadedData(pairs, bad);
    }
}

/// <summary>The pairs loaded from a command line's data paths and how many records were bad.</summary>
internal sealed record LoadedData(List<PreferencePair> Pairs, int BadRecords);
