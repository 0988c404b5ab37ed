using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Tests.Model;

/// <summary>Tiny configs, random parameters and batches, and norms for the model specifications.</summary>
internal static class ModelTestKit
{
    /// <summary>vocab 11, d 8, 2 layers, 2 heads over 1 kv head (head_dim 4), MLP 12, head 6.</summary>
    public static ModelConfig Tiny { get; } = new()
    {
        VocabSize = 11,
        HiddenSize = 8,
        NumHiddenLayers = 2,
        NumAttentionHeads = 2,
        NumKeyValueHeads = 1,
        IntermediateSize = 12,
        HeadHiddenSize = 6,
        MaxPositionEmbeddings = 64,
    };

    /// <summary>A context on the backend under test (<see cref="TestBackend"/>).</summary>
    public static WorldPMContext Context() => WorldPMContext.Create(TestBackend.Kind, threads: 2);

    /// <summary>
    /// Replaces the initial values (std 0.02, nearly linear) by ones far from it, so that every nonlinearity
    /// matters: matrices normal(0, 0.5), norm weights 1 + normal(0, 0.2), biases normal(0, 0.2).
    /// </summary>
    public static void Randomize(RewardModel model, int seed)
    {
        var random = new Random(seed);
        foreach (Parameter p in model.Parameters)
        {
            bool norm = p.Name.EndsWith("norm.weight", StringComparison.Ordinal);
            bool bias = p.Name.EndsWith(".bias", StringComparison.Ordinal);
            float[] values = new float[p.Count];
            for (int i = 0; i < values.Length; i++)
                values[i] = norm ? 1 + 0.2f * Normal(random) : (bias ? 0.2f : 0.5f) * Normal(random);
            p.Value.CopyFrom(values);
        }
        model.SyncWorkingWeights();
    }

    /// <summary>Every parameter's values in float64, by name (the reference model's input).</summary>
    public static Dictionary<string, double[]> Values(RewardModel model) =>
        model.Parameters.ToDictionary(p => p.Name, p => Array.ConvertAll(p.Value.ToArray(), v => (double)v));

    /// <summary>Every parameter's gradient, by name.</summary>
    public static Dictionary<string, float[]> Grads(RewardModel model) =>
        model.Parameters.ToDictionary(p => p.Name, p => p.Grad.ToFloats());

    /// <summary>
    /// Every parameter gradient of <paramref name="actual"/> within relative <paramref name="tolerance"/> of
    /// <paramref name="expected"/>'s. A reference gradient of norm below 1e-6 (score.2.bias under a pair loss: exactly
    /// zero, since the bias cancels in r_chosen - r_rejected, so both sides are round-off that no relative bound can
    /// compare) only has to stay that small.
    /// </summary>
    public static void ExpectSameGradients(RewardModel expected, RewardModel actual, double tolerance)
    {
        Dictionary<string, float[]> expectedGrads = Grads(expected);
        foreach ((string name, float[] grad) in Grads(actual))
        {
            double[] g = Array.ConvertAll(grad, v => (double)v);
            double[] gRef = Array.ConvertAll(expectedGrads[name], v => (double)v);
            double norm = Norm(gRef);
            TestContext.Out.WriteLine($"{name}: relative error {RelativeError(g, gRef):E2} (||g_ref|| = {norm:E2})");
            if (norm < 1e-6)
                Assert.That(Norm(g), Is.LessThan(1e-6), name);
            else
                Assert.That(RelativeError(g, gRef), Is.LessThanOrEqualTo(tolerance), name);
        }
    }

    /// <summary>A right-padded batch [lengths.Length, seqLen] of random ids; padding holds random junk, some of it
    /// outside the vocabulary.</summary>
    public static int[] Tokens(Random random, ModelConfig config, int[] lengths, int seqLen)
    {
        int[] tokens = new int[lengths.Length * seqLen];
        for (int b = 0; b < lengths.Length; b++)
            for (int t = 0; t < seqLen; t++)
                tokens[b * seqLen + t] = t < lengths[b] ? random.Next(config.VocabSize) : random.Next(-5, 1000);
        return tokens;
    }

    /// <summary>||a - b|| / ||b||.</summary>
    /// <summary>The chosen then the rejected rewards of a step, as doubles.</summary>
    public static double[] Rewards(PairStepResult r) => [.. r.ChosenRewards.Concat(r.RejectedRewards).Select(v => (double)v)];

    public static double RelativeError(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < b.Count; i++)
        {
            diff += (a[i] - b[i]) * (a[i] - b[i]);
            norm += b[i] * b[i];
        }
        return Math.Sqrt(diff / norm);
    }

    public static double Norm(IEnumerable<double> values) => Math.Sqrt(values.Sum(v => v * v));

    private static float Normal(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
}
