using WorldPM.Losses;
using WorldPM.Tokenization;

namespace WorldPM.Model;

/// <summary>
/// A micro-batch of preference pairs as the model trains on it: 2P <see cref="Sequences"/> (right padded or packed,
/// <see cref="SequenceLayout"/>), sequences 0..P-1 the chosen ones and P..2P-1 the rejected ones (pair i = sequences i
/// and P+i), so both sides of a pair run in the same batch, one loss weight per pair and, when the data gives them, one
/// margin per pair. Built once from tokenized pairs and checked then against the model's config (ids, lengths, weights): <see cref="RewardModel.ForwardBackward(PairBatch, float, Action{long}?)"/> takes it
/// as it is.
/// </summary>
public sealed class PairBatch
{
    private readonly float[] weights;
    private readonly float[] margins;

    /// <summary>Lays out <paramref name="pairs"/> for a model with <paramref name="config"/>, right padded or
    /// (<paramref name="layout"/>) packed.</summary>
    /// <exception cref="ArgumentException">No pair, an empty sequence, a sequence longer than max_position_embeddings, an
    /// id outside the vocabulary, or a weight that is negative or not finite, or weights that sum to 0, or some pairs with
    /// a margin and others without.</exception>
    public PairBatch(ModelConfig config, IReadOnlyList<TokenizedPair> pairs, SequenceLayout layout = SequenceLayout.Padded)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("a batch needs at least one pair", nameof(pairs));
        if (pairs.Any(p => p is null)) throw new ArgumentNullException(nameof(pairs), "a pair is null");
        int count = pairs.Count;
        string Side(int row) => row < count ? $"pairs[{row}].Chosen" : $"pairs[{row - count}].Rejected";
        Sequences = SequenceBatch.FromSequences(config, [.. pairs.Select(p => p.Chosen), .. pairs.Select(p => p.Rejected)],
            nameof(pairs), Side, row => Side(row) + "[", layout);
        weights = [.. pairs.Select(p => p.Weight)];
        PairValueChecks.Weights(weights, nameof(pairs));
        int withMargin = pairs.Count(p => p.Margin is not null);
        if (withMargin != 0 && withMargin != count)
            throw new ArgumentException($"pairs[{pairs.Select((p, i) => (p, i)).First(x => x.p.Margin is null).i}] has no margin while {withMargin} of the " +
                $"{count} pairs have one; give every pair a margin or none", nameof(pairs));
        margins = withMargin == 0 ? [] : [.. pairs.Select(p => p.Margin!.Value)];
        PairValueChecks.Margins(margins, nameof(pairs));
    }

    /// <summary>A batch from sequences already laid out (the chosen half first), per-pair weights (empty: the plain
    /// mean over pairs) and per-pair margins (empty: none).</summary>
    public PairBatch(SequenceBatch sequences, ReadOnlySpan<float> weights = default, ReadOnlySpan<float> margins = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count % 2 != 0)
            throw new ArgumentException($"a pair batch needs an even number of sequences (chosen, then rejected); " +
                $"got {sequences.Count}", nameof(sequences));
        Sequences = sequences;
        int pairs = sequences.Count / 2;
        if (!weights.IsEmpty && weights.Length != pairs)
            throw new ArgumentException($"weights holds {weights.Length} values; expected one per pair ({pairs})",
                nameof(weights));
        this.weights = weights.ToArray();
        PairValueChecks.Weights(this.weights, nameof(weights));
        if (!margins.IsEmpty && margins.Length != pairs)
            throw new ArgumentException($"margins holds {margins.Length} values; expected one per pair ({pairs})",
                nameof(margins));
        this.margins = margins.ToArray();
        PairValueChecks.Margins(this.margins, nameof(margins));
    }

    /// <summary>The 2P rows: chosen sequences, then rejected ones.</summary>
    public SequenceBatch Sequences { get; }

    /// <summary>P.</summary>
    public int Pairs => Sequences.Count / 2;

    /// <summary>T: the longest sequence (padded, every row's positions).</summary>
    public int SeqLen => Sequences.SeqLen;

    /// <summary>One loss weight per pair (finite, non-negative, with a positive sum), or empty for the plain mean.</summary>
    public ReadOnlySpan<float> Weights => weights;

    /// <summary>One margin per pair (finite), or empty when the data gives none; margin losses read them.</summary>
    public ReadOnlySpan<float> Margins => margins;

    /// <summary>Number of real (non-padding) tokens.</summary>
    public long TokenCount => Sequences.TokenCount;

    /// <summary>
    /// Data parallel: this rank's share of its global micro-batch's pair weight, times the rank count (1 on one
    /// process, and for equal shards of equal weights). The gradient is scaled by it, so the mean over ranks equals
    /// the gradient of the whole micro-batch's weighted mean loss.
    /// </summary>
    public double GradientShare { get; init; } = 1;
}
