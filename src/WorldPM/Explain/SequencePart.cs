namespace WorldPM.Explain;

/// <summary>Where a token of a rendered conversation comes from.</summary>
public enum SequencePart
{
    /// <summary>The chat template's own tokens: turn markers, role lines, the scoring token.</summary>
    Template,

    /// <summary>The content of a prompt turn.</summary>
    Prompt,

    /// <summary>The content of the response being scored.</summary>
    Response,
}
