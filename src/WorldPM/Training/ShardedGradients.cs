using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// ZeRO-1 data parallelism: after the backward the gradients are reduce-scattered, each rank checks, measures and
/// steps only the block it owns (<see cref="ShardedAdamW"/>), and the updated masters are gathered back into every
/// rank. The inf/NaN flag and the squared norm are summed over the ranks' blocks, the tail that every rank holds
/// counted on rank 0 only, so every rank takes the same skip decision and clip.
/// </summary>
internal sealed class ShardedGradients : IGradientSync
{
    private readonly WorldPMContext _context;
    private readonly DataParallel _parallel;
    private readonly ShardedAdamW _optimizer;
    private readonly GradientChecks _checks;

    public ShardedGradients(WorldPMContext context, RewardModel model, DataParallel parallel)
    {
        _context = context;
        _parallel = parallel;
        _optimizer = new ShardedAdamW(parallel.Communicator, model);
        _checks = new GradientChecks(context);
    }

    /// <summary>Gathering the moments for a checkpoint takes every rank.</summary>
    public bool SavesCollectively => true;

    /// <summary>Nothing runs during the backward: the reduce-scatter needs the whole buffer.</summary>
    public Action<long>? BeginExchange(bool lastMicroBatch) => null;

    public void FinishExchange() => _optimizer.ReduceGradients();

    public void SumOverRanks(Span<double> values) => _parallel.SumOverRanks(values);

    public (bool Overflow, double Norm) OverflowAndNorm()
    {
        bool nonFinite = _checks.AnyNonFinite(_optimizer.OwnedGradients(withTail: true));
        double norm = _checks.Norm(_optimizer.OwnedGradients(withTail: _parallel.IsRoot));
        Span<double> sums = [nonFinite ? 1 : 0, norm * norm];
        _parallel.SumOverRanks(sums);
        return (sums[0] != 0, Math.Sqrt(sums[1]));
    }

    public void UpdateWeights(AdamWSettings settings, long updates)
    {
        Ops.AdamWStep(_context, _optimizer.Tensors, settings, updates);
        _optimizer.GatherParameters();
    }

    public (float[] M, float[] V) GatherMoments() => _optimizer.GatherMoments();

    public void RestoreMoments(float[] m, float[] v) => _optimizer.RestoreMoments(m, v);

    public void Dispose()
    {
        _optimizer.Dispose();
        _checks.Dispose();
    }
}
