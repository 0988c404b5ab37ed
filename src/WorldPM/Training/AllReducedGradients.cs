using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// Plain data parallelism: the last micro-batch's backward starts the bucketed all-reduce of the gradients
/// (<see cref="DataParallel"/>), the step's metric sums follow them in the same wait, so every rank steps with the
/// same mean gradient, checks and clips it alike and keeps the whole AdamW state, exactly as one process does.
/// </summary>
internal sealed class AllReducedGradients : LocalGradients
{
    private readonly DataParallel _parallel;

    public AllReducedGradients(WorldPMContext context, RewardModel model, DataParallel parallel) : base(context, model) =>
        _parallel = parallel;

    /// <summary>The earlier micro-batches only add into the gradients; the last one's backward sends them bucket by bucket.</summary>
    public override Action<long>? BeginExchange(bool lastMicroBatch)
    {
        if (!lastMicroBatch) return null;
        _parallel.BeginGradients();
        return _parallel.GradientsFinalFrom;
    }

    public override void FinishExchange(StepMetricsBuffer metrics) => _parallel.FinishGradients(metrics.RankSums);

    /// <summary>Where the exchange left its results in host memory (MPI), the metrics come from there and the norm and
    /// the inf/NaN flag are computed there in float64, over the same stored gradients the device checks: no read-back.
    /// A failed device check of the step's later ops then surfaces at the next read-back (the next step's exchange).</summary>
    public override StepSums ReadMetrics(StepMetricsBuffer metrics)
    {
        if (!_parallel.TryGetReduced(out ReadOnlySpan<float> gradients, out ReadOnlySpan<float> sums))
            return metrics.Read();
        (bool nonFinite, double norm) = GradientChecks.OnHost(gradients);
        return StepMetricsBuffer.FromRankSums(sums, nonFinite, norm);
    }
}
