namespace WorldPM.Data;

/// <summary>
/// Receives what the readers find: checks each pair (non-empty prompt and responses, a sane weight and margin),
/// keeps it, skips it (identical responses) or reports it as bad, and in strict mode throws on the
/// first bad record.
/// </summary>
internal sealed class PairCollector(DataLoadOptions options)
{
    private readonly List<PreferencePair> _pairs = [];
    private readonly List<RecordIssue> _bad = [];
    private readonly List<RecordIssue> _skipped = [];

    public DataLoadOptions Options => options;

    public IReadOnlyList<PreferencePair> Pairs => _pairs;

    public IReadOnlyList<RecordIssue> BadRecords => _bad;

    public IReadOnlyList<RecordIssue> SkippedRecords => _skipped;

    public int TiedComparisons { get; private set; }

    public void Add(RecordLocation at, IReadOnlyList<ChatTurn> prompt, string chosen, string rejected, double weight = 1.0,
        string? subset = null, double? margin = null)
    {
        if (Problem(prompt, chosen, rejected, weight, margin) is { } problem)
        {
            Bad(at, problem);
        }
        else if (chosen == rejected && !options.KeepIdenticalPairs)
        {
            _skipped.Add(new RecordIssue(at, "chosen == rejected (no preference)"));
        }
        else
        {
            _pairs.Add(new PreferencePair(prompt, chosen, rejected, weight, options.Subset ?? subset, at.ToString(), margin));
        }
    }

    public void Bad(RecordLocation at, string reason)
    {
        if (options.Strict)
        {
            throw new DataFormatException(at, reason);
        }
        _bad.Add(new RecordIssue(at, reason));
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
