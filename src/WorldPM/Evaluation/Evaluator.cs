using WorldPM.Losses;
using WorldPM.Model;
using WorldPM.Tokenization;

namespace WorldPM.Evaluation;

/// <summary>Scores both sides of every pair with the model and reports <see cref="EvaluationReport"/>. The loss column is
/// the float64 Bradley-Terry unless a loss is given: then it is that loss's unweighted mean over each group's pairs (with
/// their margins).</summary>
public static class Evaluator
{
    /// <summary>Scores <paramref name="pairs"/> in batches of <paramref name="pairsPerBatch"/>, packed;
    /// <paramref name="onScored"/> hears how many pairs are done after each batch.</summary>
    /// <param name="loss">The loss column's loss; null for the float64 Bradley-Terry.</param>
    /// <param name="accelerator">Where <paramref name="loss"/> runs; null makes one for this call.</param>
    public static EvaluationReport Evaluate(RewardModel model, IReadOnlyList<TokenizedPair> pairs, int pairsPerBatch = 16,
        Action<int>? onScored = null, IPreferenceLoss? loss = null, LossAccelerator? accelerator = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pairsPerBatch, 1);
        return Evaluate(model, pairs, new BatchSizing(pairsPerBatch), onScored, loss, accelerator);
    }

    /// <summary>Scores <paramref name="pairs"/> in batches cut by <paramref name="batching"/> (a pair count or a token
    /// budget, packed or padded); <paramref name="onScored"/> hears how many pairs are done after each batch.</summary>
    /// <param name="loss">The loss column's loss; null for the float64 Bradley-Terry.</param>
    /// <param name="accelerator">Where <paramref name="loss"/> runs; null makes one for this call.</param>
    public static EvaluationReport Evaluate(RewardModel model, IReadOnlyList<TokenizedPair> pairs, BatchSizing batching,
        Action<int>? onScored = null, IPreferenceLoss? loss = null, LossAccelerator? accelerator = null)
    {
        double[] deltas = RewardDifferences(model, pairs, batching, onScored);
        if (loss is null) return Report(pairs, deltas);
        LossAccelerator? own = accelerator is null ? new LossAccelerator() : null;
        try
        {
            return Report(pairs, deltas, loss, accelerator ?? own!);
        }
        finally
        {
            own?.Dispose();
        }
    }

    /// <summary>r(chosen) - r(rejected) of every pair, scored as <see cref="Evaluate(RewardModel, IReadOnlyList{TokenizedPair}, int, Action{int}?, IPreferenceLoss?, LossAccelerator?)"/>
    /// scores them: for reports that read the differences themselves (<see cref="StyleReport"/>).</summary>
    public static double[] RewardDifferences(RewardModel model, IReadOnlyList<TokenizedPair> pairs, int pairsPerBatch = 16,
        Action<int>? onScored = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pairsPerBatch, 1);
        return RewardDifferences(model, pairs, new BatchSizing(pairsPerBatch), onScored);
    }

    /// <summary>r(chosen) - r(rejected) of every pair, in batches cut by <paramref name="batching"/>.</summary>
    /// <exception cref="ArgumentException">With a token budget, a pair that alone needs more token rows than it.</exception>
    public static double[] RewardDifferences(RewardModel model, IReadOnlyList<TokenizedPair> pairs, BatchSizing batching,
        Action<int>? onScored = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(batching);
        var deltas = new double[pairs.Count];
        for (int start = 0, count; start < pairs.Count; start += count)
        {
            count = batching.Next(start, pairs.Count, i => [pairs[i].Chosen.Length, pairs[i].Rejected.Length],
                i => $"pair {i + 1}");
            // Scoring reads only the sequences; the margins (which evaluation data may give for some pairs only) are
            // the loss column's (Evaluate).
            var slice = pairs.Skip(start).Take(count).Select(p => p.Margin is null ? p : p with { Margin = null }).ToList();
            var batch = new PairBatch(model.Config, slice, batching.Layout);
            float[] rewards = model.Score(batch.Sequences);
            int first = start, pairsInBatch = batch.Pairs;
            FiniteRewards.Require(rewards, i => i < pairsInBatch
                ? $"the chosen response of pair {first + i + 1}" : $"the rejected response of pair {first + i - pairsInBatch + 1}");
            for (int i = 0; i < batch.Pairs; ++i) deltas[start + i] = (double)rewards[i] - rewards[batch.Pairs + i];
            onScored?.Invoke(start + batch.Pairs);
        }
        return deltas;
    }

    /// <summary>The report for given reward differences (one per pair, r(chosen) - r(rejected)).</summary>
    public static EvaluationReport Report(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<double> deltas) =>
        Report(pairs, deltas, groupLoss: null);

    /// <summary>The report with <paramref name="loss"/>'s mean over each group as its loss column.</summary>
    public static EvaluationReport Report(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<double> deltas,
        IPreferenceLoss loss, LossAccelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(accelerator);
        return Report(pairs, deltas, which => GroupLoss(pairs, deltas, which, loss, accelerator));
    }

    /// <summary>The unweighted mean of <paramref name="loss"/> over the pairs <paramref name="which"/>: the rewards are
    /// the differences against 0 (every loss here reads only the gap), margins when every pair has one.</summary>
    private static double GroupLoss(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<double> deltas, IReadOnlyList<int> which,
        IPreferenceLoss loss, LossAccelerator accelerator)
    {
        float[] gaps = [.. which.Select(i => (float)deltas[i])];
        float[] margins = which.All(i => pairs[i].Margin is not null) ? [.. which.Select(i => pairs[i].Margin!.Value)] : [];
        return loss.Compute(accelerator, new PreferenceLossBatch(gaps, new float[gaps.Length], margins), default, default);
    }

    private static EvaluationReport Report(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<double> deltas,
        Func<IReadOnlyList<int>, double>? groupLoss)
    {
        if (pairs.Count != deltas.Count)
            throw new ArgumentException($"{pairs.Count} pairs but {deltas.Count} reward differences", nameof(deltas));
        var indices = Enumerable.Range(0, pairs.Count).ToList();
        PairwiseMetrics Of(IEnumerable<int> which)
        {
            List<int> members = [.. which];
            PairwiseMetrics metrics = PairwiseMetrics.FromDeltas(members.Select(i => deltas[i]).ToList());
            return groupLoss is null || members.Count == 0 ? metrics : metrics with { Loss = groupLoss(members) };
        }
        var bySubset = indices.GroupBy(i => pairs[i].Subset ?? "(none)")
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Of(g));
        return new EvaluationReport(
            Of(indices),
            bySubset,
            Of(indices.Where(i => pairs[i].ChosenLengthOrder < 0)),
            Of(indices.Where(i => pairs[i].ChosenLengthOrder > 0)),
            Of(indices.Where(i => pairs[i].ChosenLengthOrder == 0)));
    }
}
