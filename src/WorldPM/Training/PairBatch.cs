namespace WorldPM.Training;

/// <summary>
/// A micro-batch laid out as the model reads it: 2P right-padded rows of <see cref="SeqLen"/> tokens,
/// rows 0..P-1 the chosen sequences and rows P..2P-1 the rejected ones (pair i = rows i and P+i), so
/// both sides of a pair run in the same batch.
/// </summary>
public sealed class PairBatch
{
    public int Pairs { get; }
    public int SeqLen { get; }
    public int[] Tokens { get; }
    public int[] Lengths { get; }
    public float[] Weights { get; }

    /// <summary>
    /// Data parallel: this rank's share of its global micro-batch's pair weight, times the rank count (1 on one
    /// process, and for equal shards of equal weights). The gradient is scaled by it, so the mean over ranks equals
    /// the gradient of the whole micro-batch's weighted mean loss.
    /// </summary>
    public double GradientShare { get; init; } = 1;

    /// <summary>Number of real (non-padding) tokens.</summary>
    public long TokenCount => Lengths.Sum(l => (long)l);

    public PairBatch(IReadOnlyList<TokenizedPair> pairs, int padToken = 0)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("a batch needs at least one pair", nameof(pairs));
        Pairs = pairs.Count;
        SeqLen = pairs.Max(p => Math.Max(p.Chosen.Length, p.Rejected.Length));
        if (pairs.Any(p => p.Chosen.Length == 0 || p.Rejected.Length == 0))
            throw new ArgumentException("every sequence needs at least its scoring token", nameof(pairs));
        Tokens = new int[2 * Pairs * SeqLen];
        Array.Fill(Tokens, padToken);
        Lengths = new int[2 * Pairs];
        Weights = new float[Pairs];
        for (int i = 0; i < Pairs; ++i)
        {
            Place(i, pairs[i].Chosen);
            Place(Pairs + i, pairs[i].Rejected);
            Weights[i] = pairs[i].Weight;
        }
    }

    private void Place(int row, int[] sequence)
    {
        sequence.CopyTo(Tokens, row * SeqLen);
        Lengths[row] = sequence.Length;
    }
}
