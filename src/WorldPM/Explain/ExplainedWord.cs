namespace WorldPM.Explain;

/// <summary>
/// A word of the prompt or the response: a maximal run of non-whitespace characters of a part's text,
/// [Start, End) in that text, and the positions of the tokens that belong to it (each token belongs to the word
/// holding its first non-whitespace character). The players of <see cref="ShapleySampling"/>.
/// </summary>
public sealed record ExplainedWord(SequencePart Part, int Turn, int Start, int End, string Text, IReadOnlyList<int> Positions);
