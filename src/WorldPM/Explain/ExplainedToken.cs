namespace WorldPM.Explain;

/// <summary>
/// One token of an <see cref="ExplainedSequence"/>: its id, the part it belongs to, which prompt turn (0 for the
/// response and the template), the characters [Start, End) of that part's text it decodes to (empty for a template
/// token, and for a token that holds only the first bytes of a character, which the next token completes), and the
/// index of its word in <see cref="ExplainedSequence.Words"/> (-1: none, e.g. whitespace or the template), and its
/// text: those characters, or for a template token what it decodes to.
/// </summary>
public sealed record ExplainedToken(int Id, SequencePart Part, int Turn, int Start, int End, int Word, string Text);
