using WorldPM.Evaluation;
using WorldPM.Model;

namespace WorldPM.Explain;

/// <summary>
/// Shapley values of the words of the prompt and the response, estimated by permutation sampling: each sample
/// draws a random order of the words, starts from every word masked and unmasks them one by one in that order; a
/// word's value is the mean over samples of the reward change when it was unmasked, its standard error the standard
/// deviation of those changes over sqrt(samples). Masking rule: a masked word's tokens become the tokenizer's space
/// token (<see cref="ExplainedSequence.WithWordsMasked"/>), so positions, the template and the scoring token never
/// move; whitespace between words stays. "Empty" is every word masked, the baseline of
/// <see cref="IntegratedGradients"/>. In each sample the changes add up to reward(full) - reward(empty) exactly, so
/// the estimates satisfy efficiency up to rounding; the check reports it with the standard error of the sum.
/// </summary>
public static class ShapleySampling
{
    /// <summary>Permutations by default.</summary>
    public const int DefaultSamples = 32;

    /// <summary>Sequences scored per batch.</summary>
    private const int SequencesPerBatch = 64;

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is below 2 (a standard error needs
    /// two).</exception>
    public static Attribution Explain(RewardModel model, ExplainedSequence sequence, int samples = DefaultSamples, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequence);
        if (samples < 2)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, "Shapley sampling needs at least 2 samples for a standard error");
        int words = sequence.Words.Count;
        var random = new Random(seed);
        var orders = new int[samples][];
        var sequences = new List<int[]>(samples * (words + 1));
        for (int s = 0; s < samples; s++)
        {
            orders[s] = [.. Enumerable.Range(0, words)];
            random.Shuffle(orders[s]);
            var present = new bool[words];
            sequences.Add(sequence.WithWordsMasked(present));
            foreach (int w in orders[s])
            {
                present[w] = true;
                sequences.Add(sequence.WithWordsMasked(present));
            }
        }
        float[] rewards = Score(model, sequences);

        var sum = new double[words];
        var sumOfSquares = new double[words];
        for (int s = 0; s < samples; s++)
        {
            int row = s * (words + 1);
            for (int j = 0; j < words; j++)
            {
                double change = (double)rewards[row + j + 1] - rewards[row + j];
                sum[orders[s][j]] += change;
                sumOfSquares[orders[s][j]] += change * change;
            }
        }
        var units = new List<AttributionUnit>(words);
        double variance = 0;
        for (int w = 0; w < words; w++)
        {
            double mean = sum[w] / samples;
            double sampleVariance = Math.Max(0, (sumOfSquares[w] - samples * mean * mean) / (samples - 1));
            double standardError = Math.Sqrt(sampleVariance / samples);
            variance += standardError * standardError;
            ExplainedWord word = sequence.Words[w];
            units.Add(new AttributionUnit(word.Part, word.Turn, word.Start, word.End, word.Text,
                [.. word.Positions.Select(p => sequence.Ids[p])], mean, standardError));
        }
        double full = rewards[words], empty = rewards[0];
        var check = new AttributionCheck("efficiency", units.Sum(u => u.Value), full - empty, empty, Math.Sqrt(variance));
        return new Attribution(AttributionMethods.Shapley, samples, full, units, check);
    }

    private static float[] Score(RewardModel model, List<int[]> sequences)
    {
        var rewards = new float[sequences.Count];
        for (int first = 0; first < sequences.Count; first += SequencesPerBatch)
        {
            int count = Math.Min(SequencesPerBatch, sequences.Count - first);
            model.Score(SequenceBatch.FromSequences(model.Config, sequences.GetRange(first, count))).CopyTo(rewards, first);
        }
        FiniteRewards.Require(rewards, i => "the response with some words masked");
        return rewards;
    }
}
