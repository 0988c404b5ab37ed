using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// A model that only scores holds what a forward needs and no more: no gradients, and an activation arena of one
/// residual stream and one layer's working set, whatever the layer count.
/// </summary>
public class ForwardOnlyScoringTests
{
    /// <summary>d 64, 2 heads of 32 over 1 kv head, MLP 96, head 16: with N = 8 x 16 = 128 rows and B = 8, every
    /// token-level region and every [B, width] one is a whole number of 64-element alignment units.</summary>
    private static readonly ModelConfig Config = Tiny with
    {
        HiddenSize = 64, NumAttentionHeads = 2, NumKeyValueHeads = 1, IntermediateSize = 96, HeadHiddenSize = 16,
        NumHiddenLayers = 3,
    };

    private const int Pairs = 4, SeqLen = 16;
    private static readonly int[] Lengths = [16, 1, 9, 12, 3, 16, 7, 5];

    /// <summary>
    /// The scoring arena from the shapes alone: N ones, the residual stream [N, C], then one layer's working set,
    /// the larger of the attention block (input norm C, q and attention output H D each, k and v KVH D each; rstd
    /// and H lse per token in fp32) and the MLP block (MLP norm C, gate and up I each, SwiGLU written over gate;
    /// one rstd), then per sequence the head (pooled and normed rows C each, hidden and activated h each, the score;
    /// rstd, reward, the fused head's h + 1 saved values, the pair weight, the loss) and the last layer at the
    /// scoring rows (input norm, mid, MLP norm C each, q and attention output H D each, gate, up, SwiGLU I each; one
    /// rstd), and the integers: N ids and 3 B lengths, scoring positions and rows. Every region starts at a multiple
    /// of 64 elements.
    /// </summary>
    private static long ExpectedScoringBytes(ModelConfig c, Precision precision, int layers)
    {
        long n = (long)Lengths.Length * SeqLen, b = Lengths.Length, d = c.HiddenSize, i = c.IntermediateSize;
        long h = c.NumAttentionHeads, q = h * (d / h), kv = c.NumKeyValueHeads * (d / h), head = c.HeadHiddenSize;
        static long Aligned(long count) => (count + 63) / 64 * 64;
        long attention = (d + 2 * q + 2 * kv) * n, mlp = (d + 2 * i) * n;
        long storage = n + n * d + (layers > 1 ? Math.Max(attention, mlp) : attention)
            + 2 * b * d + 2 * b * head + Aligned(b)
            + 3 * b * d + 2 * b * q + 3 * b * i;
        long f32 = (1 + h) * n
            + Aligned(b) + Aligned(b) + Aligned(b * (head + 1)) + Aligned(b) + Aligned(1)
            + b;
        long integers = n + 3 * b;
        return storage * (precision == Precision.F32 ? 4 : 2) + f32 * 4 + integers * 4;
    }

    [TestCase(Precision.F32)]
    [TestCase(Precision.BF16)]
    public void TheScoringArenaIsOneLayersWorkingSetAndTheResidualStreamWhateverTheDepth(Precision precision)
    {
        foreach (int layers in new[] { 1, 3, 6 })
        {
            ModelConfig config = Config with { NumHiddenLayers = layers };
            using WorldPMContext context = Context();
            using var model = new RewardModel(context, config, seed: 3, precision);
            model.Score(Tokens(new Random(1), config, Lengths, SeqLen), Lengths, Lengths.Length, SeqLen);

            long expected = ExpectedScoringBytes(config, precision, layers);
            Assert.That(model.ActivationBytes, Is.EqualTo(expected), $"{layers} layers");
            Assert.That(ModelMemory.ScoringActivationBytes(config, precision, Lengths.Length, SeqLen), Is.EqualTo(expected),
                "what inspect reports is the allocation");
        }
    }

    [Test]
    public void ScoringNeedsAFractionOfATrainingStepsActivations()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Config, seed: 3);
        int[] tokens = Tokens(new Random(1), Config, Lengths, SeqLen);
        model.ForwardBackward(tokens, Lengths, Pairs, SeqLen);
        long training = model.ActivationBytes;
        model.Score(tokens, Lengths, Lengths.Length, SeqLen);

        // The training step keeps L layers' activations and a backward scratch; scoring, per token, one residual
        // stream and the larger block of one layer.
        TestContext.Out.WriteLine($"training {training} bytes, scoring {model.ActivationBytes}");
        Assert.That(model.ActivationBytes, Is.LessThan(training / 3));
    }

    [Test]
    public void AModelThatOnlyScoresHoldsNoGradientsAndMakesThemZeroedOnItsFirstTrainingStep()
    {
        using WorldPMContext context = Context();
        using var scoredFirst = new RewardModel(context, Config, seed: 3);
        using var trainedAtOnce = new RewardModel(context, Config, seed: 3);
        int[] tokens = Tokens(new Random(2), Config, Lengths, SeqLen);

        float[] rewards = scoredFirst.Score(tokens, Lengths, Lengths.Length, SeqLen);
        Assert.That(scoredFirst.HasGradients, Is.False, "scoring allocated no gradients");
        Assert.That(rewards.All(float.IsFinite));

        PairStepResult expected = trainedAtOnce.ForwardBackward(tokens, Lengths, Pairs, SeqLen);
        PairStepResult actual = scoredFirst.ForwardBackward(tokens, Lengths, Pairs, SeqLen);

        Assert.That(scoredFirst.HasGradients, Is.True);
        Assert.That(BitConverter.SingleToInt32Bits(actual.Loss), Is.EqualTo(BitConverter.SingleToInt32Bits(expected.Loss)));
        for (int p = 0; p < scoredFirst.Parameters.Count; p++)
            Assert.That(Bits(scoredFirst.Parameters[p].Grad.ToFloats()), Is.EqualTo(Bits(trainedAtOnce.Parameters[p].Grad.ToFloats())),
                scoredFirst.Parameters[p].Name);
    }

    private static int[] Bits(IEnumerable<float> values) => [.. values.Select(BitConverter.SingleToInt32Bits)];
}
