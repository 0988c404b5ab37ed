using WorldPM.Model;
using WorldPM.Tokenization;

namespace WorldPM.Evaluation;

/// <summary>Scores both sides of every pair with the model and reports <see cref="EvaluationReport"/>.</summary>
public static class Evaluator
{
    /// <summary>Scores <paramref name="pairs"/> in batches; <paramref name="onScored"/> hears how many pairs are done after each batch.</summary>
    public static EvaluationReport Evaluate(RewardModel model, IReadOnlyList<TokenizedPair> pairs, int pairsPerBatch = 16,
        Action<int>? onScored = null) =>
        Report(pairs, RewardDifferences(model, pairs, pairsPerBatch, onScored));

    /// <summary>r(chosen) - r(rejected) of every pair, scored as <see cref="Evaluate"/> scores them: for reports that
    /// read the differences themselves (<see cref="StyleReport"/>).</summary>
    public static double[] RewardDifferences(RewardModel model, IReadOnlyList<TokenizedPair> pairs, int pairsPerBatch = 16,
        Action<int>? onScored = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentOutOfRangeException.ThrowIfLessThan(pairsPerBatch, 1);
        var deltas = new double[pairs.Count];
        for (int start = 0; start < pairs.Count; start += pairsPerBatch)
        {
            var slice = pairs.Skip(start).Take(pairsPerBatch).ToList();
            var batch = new PairBatch(model.Config, slice);
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
    public static EvaluationReport Report(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<double> deltas)
    {
        if (pairs.Count != deltas.Count)
            throw new ArgumentException($"{pairs.Count} pairs but {deltas.Count} reward differences", nameof(deltas));
        var indices = Enumerable.Range(0, pairs.Count).ToList();
        PairwiseMetrics Of(IEnumerable<int> which) => PairwiseMetrics.FromDeltas(which.Select(i => deltas[i]).ToList());
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
