namespace WorldPM.Tokenization;

/// <summary>
/// A conversation rendered by the <see cref="ChatTemplate"/>: the ids, whose last one is the scoring
/// token (at <see cref="ScoringIndex"/>), and whether the prompt or the response had to be cut to fit.
/// </summary>
public sealed record EncodedSequence(int[] Ids, bool PromptTruncated, bool ResponseTruncated)
{
    /// <summary>Whether anything was cut.</summary>
    public bool Truncated => PromptTruncated || ResponseTruncated;

    /// <summary>The position the preference head reads: the last token.</summary>
    public int ScoringIndex => Ids.Length - 1;
}
