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
}
