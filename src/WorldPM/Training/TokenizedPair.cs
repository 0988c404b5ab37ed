namespace WorldPM.Training;

/// <summary>A preference pair after the chat template and tokenizer: the two full sequences, each ending
/// in its scoring token.</summary>
public sealed record TokenizedPair(int[] Chosen, int[] Rejected, float Weight = 1f, string? Subset = null);
