using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// ZeRO-1 data parallelism: after the backward the gradients are reduce-scattered, each rank checks, measures and
/// steps only the block it owns (<see cref="ShardedAdamW"/>), and the updated masters are gathered back into every
/// rank. The inf/NaN flags are summed over the ranks' blocks and the norm is the norm of the ranks' block norms (the
/// tail that every rank holds counted on rank 0 only), all on the device, so every rank takes the same skip decision
/// and clip.
/// </summary>
internal sealed class ShardedGradients : IGradientSync
{
    private readonly WorldPMContext _context;
    private readonly DataParallel _parallel;
    private readonly ShardedAdamW _optimizer;
    private readonly DeviceBuffer<float> _blockNorm, _blockNorms;

    public ShardedGradients(WorldPMContext context, RewardModel model, DataParallel parallel)
    {
        _context = context;
        _parallel = parallel;
        _optimizer = new ShardedAdamW(parallel.Communicator, model);
        _blockNorm = context.Allocate<float>(1);
        _blockNorms = context.Allocate<float>(parallel.Size);
    }

    /// <summary>Each piece of a moment comes from the rank that owns it: reading one takes every rank.</summary>
    public bool SavesCollectively => true;

    /// <summary>Nothing runs during the backward: the reduce-scatter needs the whole buffer.</summary>
    public Action<long>? BeginExchange(bool lastMicroBatch) => null;

    public void FinishExchange(StepMetricsBuffer metrics)
    {
        _optimizer.ReduceGradients();
        _parallel.SumOverRanks(metrics.RankSums);
    }

    public StepSums ReadMetrics(StepMetricsBuffer metrics) => metrics.Read();

    public void CheckGradients(StepMetricsBuffer metrics)
    {
        GradientChecks.Run(_context, _optimizer.OwnedGradients(withTail: true),
            _optimizer.OwnedGradients(withTail: _parallel.IsRoot), metrics.NonFinite, _blockNorm);
        _parallel.SumOverRanks(metrics.NonFinite);
        _parallel.Communicator.AllGather(_blockNorm, _blockNorms);
        Ops.GlobalNorm(_context, [_blockNorms], metrics.Norm);
    }

    public void UpdateWeights(AdamWSettings settings, AdamWStepValues stepValues, DeviceBuffer<float> gradientCheck)
    {
        Ops.AdamWStep(_context, _optimizer.Tensors, settings, step: 1, gradientCheck, stepValues);
        _optimizer.GatherParameters();
    }

    public (TensorData M, TensorData V) Moments(int index, string firstName, string secondName) =>
        _optimizer.Moments(index, firstName, secondName);

    public void RestoreMoments(IReadOnlyList<(TensorData M, TensorData V)> moments) => _optimizer.RestoreMoments(moments);

    public void Dispose()
    {
        _optimizer.Dispose();
        _blockNorm.Dispose();
        _blockNorms.Dispose();
    }
}
