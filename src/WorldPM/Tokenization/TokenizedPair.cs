namespace WorldPM.Tokenization;

/// <summary>
/// A preference pair after the chat template and the tokenizer: the chosen and the rejected sequence, each ending in
/// its scoring token, the pair's loss weight and subset, and whether the template had to cut the shared prompt or a
/// response to fit. The one pair type between the data readers' <see cref="WorldPM.Data.PreferencePair"/> and the
/// model's <see cref="WorldPM.Model.PairBatch"/>.
/// </summary>
public sealed record TokenizedPair(int[] Chosen, int[] Rejected, float Weight = 1f, string? Subset = null)
{
    /// <summary>The pair's margin from the data (<see cref="WorldPM.Data.PreferencePair.Margin"/>), or null.</summary>
    public float? Margin { get; init; }

    /// <summary>Whether the shared prompt was cut.</summary>
    public bool PromptTruncated { get; init; }

    /// <summary>Whether either response was cut.</summary>
    public bool ResponseTruncated { get; init; }

    /// <summary>Whether either sequence was cut.</summary>
    public bool Truncated => PromptTruncated || ResponseTruncated;

    /// <summary>The chosen response's tokens before any truncation (its text only, without the template), or null when
    /// the pair was built without the template.</summary>
    public int? ChosenResponseTokens { get; init; }

    /// <summary>The rejected response's tokens before any truncation, or null (see <see cref="ChosenResponseTokens"/>).</summary>
    public int? RejectedResponseTokens { get; init; }

    /// <summary>
    /// How the chosen response's length compares with the rejected one's (-1 shorter, 0 the same, 1 longer): by the
    /// untruncated response tokens when known, so cutting both to the length limit hides no difference; else by the
    /// sequences as they are.
    /// </summary>
    public int ChosenLengthOrder =>
        ChosenResponseTokens is int chosen && RejectedResponseTokens is int rejected
            ? chosen.CompareTo(rejected)
            : Chosen.Length.CompareTo(Rejected.Length);
}
