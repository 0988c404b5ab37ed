namespace WorldPM.Explain;

/// <summary>
/// One attributed piece of the input: a token (gradient methods) or a word (Shapley sampling), its part, prompt turn,
/// characters [Start, End) of that part's text, its text, the ids it spans, its share of the reward and, for a
/// sampling estimate, the standard error of that share (null for the exact gradient methods).
/// </summary>
public sealed record AttributionUnit(SequencePart Part, int Turn, int Start, int End, string Text, int[] TokenIds, double Value,
    double? StandardError);
