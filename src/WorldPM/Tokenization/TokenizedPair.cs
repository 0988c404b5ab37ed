namespace WorldPM.Tokenization;

/// <summary>
/// A preference pair after the chat template and the tokenizer: the chosen and the rejected sequence, each ending in
/// its scoring token, the pair's loss weight and subset, and whether the template had to cut the shared prompt or a
/// response to fit. The one pair type between the data readers' <see cref="WorldPM.Data.PreferencePair"/> and the
/// model's <see cref="WorldPM.Model.PairBatch"/>.
/// </summary>
public sealed record TokenizedPair(int[] Chosen, int[] Rejected, float Weight = 1f, string? Subset = null)
{
    /// <summary>Whether the shared prompt was cut.</summary>
    public bool PromptTruncated { get; init; }

    /// <summary>Whether either response was cut.</summary>
    public bool ResponseTruncated { get; init; }

    /// <summary>Whether either sequence was cut.</summary>
    public bool Truncated => PromptTruncated || ResponseTruncated;
}
