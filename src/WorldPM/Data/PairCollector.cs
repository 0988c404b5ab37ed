namespace WorldPM.Data;

/// <summary>
/// Receives what the readers find: checks each pair (non-empty prompt and responses, a sane weight and margin),
/// keeps it, skips it (identical responses) or reports it as bad, and in strict mode throws on the
/// first bad record. With a sink, kept pairs go to it as they are found instead of into <see cref="Pairs"/>, and only
/// the first <see cref="KeptIssues"/> bad and skipped records are kept as examples (the rest counted), so a reader that
/// streams its file holds no pairs and a bounded list of issues whatever the data size.
/// </summary>
internal sealed class PairCollector(DataLoadOptions options, Action<PreferencePair>? sink = null)
{
    private readonly List<PreferencePair> _pairs = [];
    private readonly List<RecordIssue> _bad = [];
    private readonly List<RecordIssue> _skipped = [];

    /// <summary>Bad and skipped records kept as examples each when streaming to a sink; a load without a sink keeps all.</summary>
    public const int KeptIssues = 100;

    public DataLoadOptions Options => options;

    /// <summary>The pairs kept (none when a sink takes them).</summary>
    public IReadOnlyList<PreferencePair> Pairs => _pairs;

    /// <summary>How many pairs were kept, into <see cref="Pairs"/> or the sink.</summary>
    public int PairCount { get; private set; }

    /// <summary>The bad records kept (all, or the first <see cref="KeptIssues"/> when streaming).</summary>
    public IReadOnlyList<RecordIssue> BadRecords => _bad;

    /// <summary>The skipped records kept (all, or the first <see cref="KeptIssues"/> when streaming).</summary>
    public IReadOnlyList<RecordIssue> SkippedRecords => _skipped;

    /// <summary>How many records were bad, kept as examples or not.</summary>
    public int BadRecordCount { get; private set; }

    /// <summary>How many records were skipped, kept as examples or not.</summary>
    public int SkippedRecordCount { get; private set; }

    public int TiedComparisons { get; private set; }

    private DataSource? _file;
    private int _fileIndex;

    /// <summary>Where reading has come: the index of the file being read and how far into it.</summary>
    public StreamPosition Position => new(_fileIndex, _file?.BytesRead ?? 0);

    /// <summary>Notes that the pairs found from now on come from <paramref name="file"/>, the <paramref name="index"/>-th file read.</summary>
    public void StartFile(DataSource file, int index) => (_file, _fileIndex) = (file, index);

    public void Add(RecordLocation at, IReadOnlyList<ChatTurn> prompt, string chosen, string rejected, double weight = 1.0,
        string? subset = null, double? margin = null)
    {
        if (Problem(prompt, chosen, rejected, weight, margin) is { } problem)
        {
            Bad(at, problem);
        }
        else if (chosen == rejected && !options.KeepIdenticalPairs)
        {
            Keep(_skipped, new RecordIssue(at, "chosen == rejected (no preference)"));
            SkippedRecordCount++;
        }
        else
        {
            var pair = new PreferencePair(prompt, chosen, rejected, weight, options.Subset ?? subset, at.ToString(), margin);
            if (sink is null) _pairs.Add(pair);
            else sink(pair);
            PairCount++;
        }
    }

    public void Bad(RecordLocation at, string reason)
    {
        if (options.Strict)
        {
            throw new DataFormatException(at, reason);
        }
        Keep(_bad, new RecordIssue(at, reason));
        BadRecordCount++;
    }

    private void Keep(List<RecordIssue> issues, RecordIssue issue)
    {
        if (sink is null || issues.Count < KeptIssues) issues.Add(issue);
    }

    public void Tie() => TiedComparisons++;

    private static string? Problem(IReadOnlyList<ChatTurn> prompt, string chosen, string rejected, double weight, double? margin)
    {
        if (prompt.Count == 0 || prompt.All(turn => string.IsNullOrWhiteSpace(turn.Content)))
        {
            return "empty prompt";
        }
        if (string.IsNullOrWhiteSpace(chosen))
        {
            return "empty chosen response";
        }
        if (string.IsNullOrWhiteSpace(rejected))
        {
            return "empty rejected response";
        }
        if (margin is { } m && !double.IsFinite(m))
        {
            return $"margin {m} is not a finite number";
        }
        return double.IsFinite(weight) && weight >= 0 ? null : $"weight {weight} is not a finite non-negative number";
    }
}
