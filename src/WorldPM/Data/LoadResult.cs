namespace WorldPM.Data;

/// <summary>
/// One file read by <see cref="PreferenceDataset.Load"/>: its format (<see cref="DataFormat.Auto"/> when it could not be
/// told) and what it gave, tied comparisons (which make no pair) included.
/// </summary>
public sealed record LoadedFile(string Path, DataFormat Format, int Pairs, int BadRecords, int SkippedRecords, int TiedComparisons = 0);

/// <summary>
/// The pairs loaded and the account of everything that did not become a pair: bad records (with
/// file, line and reason), records skipped on purpose (identical responses) and comparisons that
/// made no pair because their scores tie. A streaming read keeps only the first bad and skipped records as examples;
/// <see cref="BadRecordCount"/> and <see cref="SkippedRecordCount"/> count them all.
/// </summary>
public sealed record LoadResult(
    IReadOnlyList<PreferencePair> Pairs,
    IReadOnlyList<RecordIssue> BadRecords,
    IReadOnlyList<RecordIssue> SkippedRecords,
    int TiedComparisons,
    IReadOnlyList<LoadedFile> Files,
    IReadOnlyList<string> IgnoredFiles)
{
    /// <summary>Every bad record, listed in <see cref="BadRecords"/> or not.</summary>
    public int BadRecordCount { get; init; } = BadRecords.Count;

    /// <summary>Every skipped record, listed in <see cref="SkippedRecords"/> or not.</summary>
    public int SkippedRecordCount { get; init; } = SkippedRecords.Count;

    /// <summary>The pairs read: <see cref="Pairs"/>' count, or the count a streaming read handed on without keeping them.</summary>
    public int PairCount => Files.Sum(file => file.Pairs);

    /// <summary>One line for a log: pairs, bad, skipped and tied counts.</summary>
    public string Summary() =>
        $"{PairCount} pairs from {Files.Count} file(s); {BadRecordCount} bad records, " +
        $"{SkippedRecordCount} skipped (identical responses), {TiedComparisons} tied comparisons";
}
