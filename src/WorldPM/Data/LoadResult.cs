namespace WorldPM.Data;

/// <summary>
/// One file read by <see cref="PreferenceDataset.Load"/>: its format (<see cref="DataFormat.Auto"/> when it could not be
/// told) and what it gave, tied comparisons (which make no pair) included.
/// </summary>
public sealed record LoadedFile(string Path, DataFormat Format, int Pairs, int BadRecords, int SkippedRecords, int TiedComparisons = 0);

/// <summary>
/// The pairs loaded and the account of everything that did not become a pair: bad records (with
/// file, line and reason), records skipped on purpose (identical responses) and comparisons that
/// made no pair because their scores tie.
/// </summary>
public sealed record LoadResult(
    IReadOnlyList<PreferencePair> Pairs,
    IReadOnlyList<RecordIssue> BadRecords,
    IReadOnlyList<RecordIssue> SkippedRecords,
    int TiedComparisons,
    IReadOnlyList<LoadedFile> Files,
    IReadOnlyList<string> IgnoredFiles)
{
    /// <summary>The pairs read: <see cref="Pairs"/>' count, or the count a streaming read handed on without keeping them.</summary>
    public int PairCount => Files.Sum(file => file.Pairs);

    /// <summary>One line for a log: pairs, bad, skipped and tied counts.</summary>
    public string Summary() =>
        $"{PairCount} pairs from {Files.Count} file(s); {BadRecords.Count} bad records, " +
        $"{SkippedRecords.Count} skipped (identical responses), {TiedComparisons} tied comparisons";
}
