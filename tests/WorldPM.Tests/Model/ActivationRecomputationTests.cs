using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// Activation recomputation (<see cref="RewardModel.RecomputeActivations"/>) against a second model with the same
/// weights that keeps every layer's activations: the same ops on the same inputs, so bitwise the same rewards, loss
/// and gradients, in a smaller arena.
/// </summary>
public class ActivationRecomputationTests
{
    /// <summary>3 layers (two of them recomputed), GQA 2 heads over 1 kv head.</summary>
    private static readonly ModelConfig Config = Tiny with { NumHiddenLayers = 3 };

    /// <summary>N = 8 x 16 = 128 rows, a multiple of the 64-element alignment, so no token-level region is padded
    /// and arena sizes can be predicted exactly.</summary>
    private const int Pairs = 4, SeqLen = 16;
    private static readonly int[] Lengths = [16, 1, 9, 12, 3, 16, 7, 5];

    [TestCase(Precision.F32, false)]
    [TestCase(Precision.F32, true)]
    [TestCase(Precision.BF16, false)]
    [TestCase(Precision.BF16, true)]
    [TestCase(Precision.F16, false)]
    public void RewardsLossAndEveryParameterGradientAreBitwiseThoseWithoutRecomputation(Precision precision,
        bool fullLastLayer)
    {
        using WorldPMContext context = Context();
        using var kept = new RewardModel(context, Config, seed: 3, precision) { FullLastLayer = fullLastLayer };
        using var recomputed = new RewardModel(context, Config, seed: 3, precision)
        {
            FullLastLayer = fullLastLayer,
            RecomputeActivations = true,
        };
        Randomize(kept, seed: 13);
        Randomize(recomputed, seed: 13);
        int[] tokens = Tokens(new Random(6), Config, Lengths, SeqLen);

        PairStepResult expected = kept.ForwardBackward(tokens, Lengths, Pairs, SeqLen);
        PairStepResult actual = recomputed.ForwardBackward(tokens, Lengths, Pairs, SeqLen);

        Assert.That(recomputed.ActivationBytes, Is.LessThan(kept.ActivationBytes), "the recomputing arena was used");
        Assert.That(Bits(actual.ChosenRewards), Is.EqualTo(Bits(expected.ChosenRewards)), "chosen rewards");
        Assert.That(Bits(actual.RejectedRewards), Is.EqualTo(Bits(expected.RejectedRewards)), "rejected rewards");
        Assert.That(BitConverter.SingleToInt32Bits(actual.Loss), Is.EqualTo(BitConverter.SingleToInt32Bits(expected.Loss)),
            "loss");
        Dictionary<string, float[]> expectedGrads = Grads(kept);
        foreach ((string name, float[] grad) in Grads(recomputed))
            Assert.That(Bits(grad), Is.EqualTo(Bits(expectedGrads[name])), name);
    }

    // Scoring is forward only, so it plans the forward-only layout (one residual stream updated in place, one
    // layer's working set): the same rewards, bit for bit, as the forward of a training step with every layer's
    // intermediates kept.
    [TestCase(Precision.F32)]
    [TestCase(Precision.BF16)]
    public void ScoringUsesTheSmallerArenaAndGivesTheTrainingForwardsRewardsBitwise(Precision precision)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Config, seed: 3, precision);
        Randomize(model, seed: 4);
        int[] tokens = Tokens(new Random(2), Config, Lengths, SeqLen);

        PairStepResult training = model.ForwardBackward(tokens, Lengths, Pairs, SeqLen);
        long trainingBytes = model.ActivationBytes;
        float[] scored = model.Score(tokens, Lengths, Lengths.Length, SeqLen);

        Assert.That(model.ActivationBytes, Is.LessThan(trainingBytes), "scoring planned the forward-only arena");
        Assert.That(Bits(scored), Is.EqualTo(Bits(training.ChosenRewards.Concat(training.RejectedRewards))));
    }

    /// <summary>
    /// The saving predicted from the shapes alone. A layer's intermediates (everything it saves but its input) are
    /// input norm C, q H D, k and v KVH D each, attention output H D, mid-residual C, MLP norm C, gate, up and SwiGLU
    /// I each per token in the storage type, and the two rstd and H lse per token in fp32; the last layer run at
    /// the scoring rows keeps only the first five of the storage ones and input rstd and lse at every token.
    /// Without recomputation each layer holds its own; with it, one full layer's set serves all.
    /// </summary>
    [TestCase(Precision.F32, false)]
    [TestCase(Precision.F32, true)]
    [TestCase(Precision.BF16, false)]
    [TestCase(Precision.BF16, true)]
    public void RecomputationSavesAllButOneLayersIntermediates(Precision precision, bool fullLastLayer)
    {
        long n = (long)Lengths.Length * SeqLen, c = Config.HiddenSize, i = Config.IntermediateSize, h = Config.NumAttentionHeads;
        long q = h * Config.HeadDim, kv = (long)Config.NumKeyValueHeads * Config.HeadDim;
        int layers = Config.NumHiddenLayers, storageBytes = precision == Precision.F32 ? 4 : 2;
        long fullLayer = ((3 * c + 2 * q + 2 * kv + 3 * i) * storageBytes + (h + 2) * 4) * n;
        long scoringRowLayer = ((c + 2 * q + 2 * kv) * storageBytes + (h + 1) * 4) * n;
        long expectedSaving = fullLastLayer
            ? (layers - 1) * fullLayer
            : (layers - 2) * fullLayer + scoringRowLayer;

        long kept = ArenaBytes(precision, fullLastLayer, recompute: false);
        long recomputed = ArenaBytes(precision, fullLastLayer, recompute: true);

        TestContext.Out.WriteLine($"{precision}, full last layer {fullLastLayer}: {kept} -> {recomputed} bytes");
        Assert.That(kept - recomputed, Is.EqualTo(expectedSaving));
    }

    private static long ArenaBytes(Precision precision, bool fullLastLayer, bool recompute)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Config, seed: 1, precision)
        {
            FullLastLayer = fullLastLayer,
            RecomputeActivations = recompute,
        };
        model.ForwardBackward(Tokens(new Random(1), Config, Lengths, SeqLen), Lengths, Pairs, SeqLen);
        return model.ActivationBytes;
    }

    private static int[] Bits(IEnumerable<float> values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
