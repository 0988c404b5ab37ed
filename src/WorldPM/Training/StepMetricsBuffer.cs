using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// One optimizer step's metrics in one small device buffer, so that the step reads them, together with the device
/// error word, in a single read-back at its end: the sums that ranks add (loss·pairs, pairs with chosen &gt; rejected,
/// margin, pairs, tokens), then the gradient check (inf/NaN flag, norm of the gradients at the loss scale) that the
/// AdamW step reads on the device to skip or clip.
/// </summary>
internal sealed class StepMetricsBuffer : IDisposable
{
    private const int LossSum = 0, Correct = 1, MarginSum = 2, PairCount = 3, TokenCount = 4, NonFiniteFlag = 5,
        NormAt = 6, Count = 7;

    private readonly DeviceBuffer<float> _all;

    public StepMetricsBuffer(WorldPMContext context)
    {
        _all = context.Allocate<float>(Count);
        PairSums = _all.View(LossSum, 3);
        RankSums = _all.View(LossSum, NonFiniteFlag);
        GradientCheck = _all.View(NonFiniteFlag, 2);
        NonFinite = _all.View(NonFiniteFlag, 1);
        Norm = _all.View(NormAt, 1);
    }

    /// <summary>f32 [3]: loss·pairs, correct pairs, margin (<see cref="Ops.PairMetrics"/> adds into it).</summary>
    public DeviceBuffer<float> PairSums { get; }

    /// <summary>f32 [5]: the values data-parallel ranks add: <see cref="PairSums"/>, pairs, tokens.</summary>
    public DeviceBuffer<float> RankSums { get; }

    /// <summary>f32 [2]: <see cref="NonFinite"/>, then <see cref="Norm"/>: the AdamW step's gradient check.</summary>
    public DeviceBuffer<float> GradientCheck { get; }

    /// <summary>f32 [1]: nonzero when a gradient holds inf or NaN.</summary>
    public DeviceBuffer<float> NonFinite { get; }

    /// <summary>f32 [1]: the global L2 norm of the gradients as stored (at the loss scale).</summary>
    public DeviceBuffer<float> Norm { get; }

    /// <summary>Zeroes the sums and the gradient check before a step's first micro-batch (queued: no wait); not the
    /// counts, which <see cref="SetCounts"/> writes whole, before a recorded step is launched.</summary>
    public void Clear()
    {
        PairSums.Fill(0);
        GradientCheck.Fill(0);
    }

    /// <summary>This rank's pairs and tokens, so that they are added over ranks with the rest (a small upload: no
    /// wait). An upload, so never inside a recorded step: the host writes them before its launch.</summary>
    public void SetCounts(long pairs, long tokens) => _all.CopyFrom([pairs, tokens], offset: PairCount);

    /// <summary>The one read-back of the step; it also reports a failed device check of any op since the last one.</summary>
    public StepSums Read()
    {
        Span<float> v = stackalloc float[Count];
        _all.CopyTo(v);
        return FromRankSums(v[..NonFiniteFlag], v[NonFiniteFlag] != 0, v[NormAt]);
    }

    /// <summary>The step's metrics from a host copy of <see cref="RankSums"/> and the gradient check.</summary>
    private static StepSums FromRankSums(ReadOnlySpan<float> rankSums, bool overflow, double norm)
    {
        if (rankSums.Length != NonFiniteFlag)
            throw new ArgumentException($"{rankSums.Length} sums; a step has {NonFiniteFlag}", nameof(rankSums));
        return new StepSums(rankSums[LossSum], rankSums[Correct], rankSums[MarginSum], (long)rankSums[PairCount],
            (long)rankSums[TokenCount], overflow, norm);
    }

    public void Dispose()
    {
        PairSums.Dispose();
        RankSums.Dispose();
        GradientCheck.Dispose();
        NonFinite.Dispose();
        Norm.Dispose();
        _all.Dispose();
    }
}

/// <summary>What <see cref="StepMetricsBuffer.Read"/> returns: sums over the step's pairs (and ranks), the overflow flag
/// and the gradient norm at the loss scale.</summary>
internal readonly record struct StepSums(double Loss, double Correct, double Margin, long Pairs, long Tokens,
    bool Overflow, double Norm);
