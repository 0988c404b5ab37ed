namespace WorldPM.Tokenization;

/// <summary>The two sequences of a <see cref="WorldPM.Data.PreferencePair"/>, both ending in the scoring token.</summary>
public sealed record EncodedPair(EncodedSequence Chosen, EncodedSequence Rejected)
{
    /// <summary>Whether either sequence was cut.</summary>
    public bool Truncated => Chosen.Truncated || Rejected.Truncated;

    /// <summary>Whether the shared prompt was cut.</summary>
    public bool PromptTruncated => Chosen.PromptTruncated || Rejected.PromptTruncated;

    /// <summary>Whether either response was cut.</summary>
    public bool ResponseTruncated => Chosen.ResponseTruncated || Rejected.ResponseTruncated;
}
