namespace WorldPM.Data;

/// <summary>How <see cref="PreferenceDataset.Load"/> reads preference data.</summary>
public sealed record DataLoadOptions
{
    /// <summary>The format of every file loaded; <see cref="DataFormat.Auto"/> detects it per file.</summary>
    public DataFormat Format { get; init; } = DataFormat.Auto;

    /// <summary>Throw a <see cref="DataFormatException"/> on the first bad record instead of reporting it.</summary>
    public bool Strict { get; init; }

    /// <summary>
    /// Read bytes that are not UTF-8 as U+FFFD. Off by default: a record holding them is a bad record naming its file
    /// and line, since the replacement characters would be trained on as if someone wrote them.
    /// </summary>
    public bool LenientUtf8 { get; init; }

    /// <summary>
    /// Keep pairs whose chosen and rejected responses are identical. They carry no preference (their
    /// Bradley-Terry gradient is zero), so by default they are left out and listed in
    /// <see cref="LoadResult.SkippedRecords"/>.
    /// </summary>
    public bool KeepIdenticalPairs { get; init; }

    /// <summary>Overrides the subset label of every pair loaded.</summary>
    public string? Subset { get; init; }

    /// <summary>
    /// StackExchange: points added to the accepted answer's score before ranking. The data README
    /// ranks by the raw score (its 2,196 pairs), so the default is 0; WorldPM's rule is 1.
    /// </summary>
    public int AcceptedAnswerBonus { get; init; }

    /// <summary>
    /// StackExchange and HelpSteer: the score difference a pair must exceed; 0 pairs any two
    /// different scores. Comparisons that do not exceed it count as <see cref="LoadResult.TiedComparisons"/>.
    /// </summary>
    public double MinScoreMargin { get; init; }

    /// <summary>HelpSteer: the score attribute that ranks responses.</summary>
    public string ScoreAttribute { get; init; } = "helpfulness";

    /// <summary>
    /// Summarize-from-feedback: weight each pair by the labeller's confidence, |confidence - 5| / 4
    /// (1 for "much better", 0.25 for "slightly better"). Off by default: every pair weighs 1.
    /// </summary>
    public bool WeightByConfidence { get; init; }

    /// <summary>
    /// The graded field each pair's <see cref="PreferencePair.Margin"/> comes from, or null for none. Generic JSONL: a
    /// number of the record by that name. HelpSteer: a score attribute (margin = chosen's minus rejected's score).
    /// StackExchange: <see cref="VotesMarginField"/>, the vote gap of the two answers. Summarize-from-feedback:
    /// <see cref="ConfidenceMarginField"/>, |confidence - 5| / 4. A pair whose record lacks the field gets no margin.
    /// </summary>
    public string? MarginFrom { get; init; }

    /// <summary>The StackExchange margin field (<see cref="MarginFrom"/>): the answers' score difference.</summary>
    public const string VotesMarginField = "votes";

    /// <summary>The summarize-from-feedback margin field (<see cref="MarginFrom"/>): the labeller's confidence.</summary>
    public const string ConfidenceMarginField = "confidence";

    /// <summary>Parquet: which columns hold the prompt, responses, subset and weight.</summary>
    public ColumnMapping Columns { get; init; } = new();
}
