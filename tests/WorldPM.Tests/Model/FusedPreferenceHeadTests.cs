using WorldPM.Losses;
using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// The fused preference head (one native op each way: the final norm, the head and the Bradley-Terry loss) against
/// the chain of ops it replaces (<see cref="RewardModel.FusedHead"/> false): the same rewards, loss and every parameter
/// gradient, for each head activation and storage type, with and without pair weights, and with a host loss.
/// </summary>
public class FusedPreferenceHeadTests
{
    private const int Pairs = 4, SeqLen = 7;
    private static readonly int[] Lengths = [7, 1, 4, 6, 2, 7, 3, 5];
    private static readonly float[] PairWeights = [0.5f, 2f, 0f, 1f];

    // f32: the two compute the same fp32 math in another order. bf16: the chain rounds the normalized rows, the
    // hidden layer and its activation to bf16 between its ops, the fused op keeps them in fp32.
    private static double Tolerance(Precision precision) => precision == Precision.F32 ? 1e-5 : 5e-2;

    [TestCase(HeadActivation.GeluTanh, Precision.F32, false)]
    [TestCase(HeadActivation.GeluExact, Precision.F32, true)]
    [TestCase(HeadActivation.Relu, Precision.F32, true)]
    [TestCase(HeadActivation.GeluTanh, Precision.BF16, true)]
    [TestCase(HeadActivation.Relu, Precision.BF16, false)]
    public void RewardsLossAndEveryGradientMatchTheChain(HeadActivation activation, Precision precision, bool weighted)
    {
        ModelConfig config = Tiny with { HeadActivation = activation };
        using WorldPMContext context = Context();
        using var chain = new RewardModel(context, config, seed: 3, precision) { FusedHead = false };
        using var fused = new RewardModel(context, config, seed: 3, precision) { FusedHead = true };
        Randomize(chain, seed: 17);
        Randomize(fused, seed: 17);
        int[] tokens = Tokens(new Random(4), config, Lengths, SeqLen);
        float[] weights = weighted ? PairWeights : [];

        PairStepResult expected = chain.ForwardBackward(tokens, Lengths, Pairs, SeqLen, lossScale: 2f, weights: weights);
        PairStepResult actual = fused.ForwardBackward(tokens, Lengths, Pairs, SeqLen, lossScale: 2f, weights: weights);

        ExpectSameStep(chain, fused, expected, actual, Tolerance(precision));
    }

    [Test]
    public void AHostLossStartsTheFusedBackwardFromItsRewardGradients()
    {
        using WorldPMContext context = Context();
        using var chain = new RewardModel(context, Tiny, seed: 5) { FusedHead = false };
        using var fused = new RewardModel(context, Tiny, seed: 5);
        Randomize(chain, seed: 8);
        Randomize(fused, seed: 8);
        int[] tokens = Tokens(new Random(6), Tiny, Lengths, SeqLen);
        var batch = new PairBatch(SequenceBatch.FromPadded(Tiny, tokens, Lengths, 2 * Pairs, SeqLen), []);
        IPreferenceLoss loss = PreferenceLosses.Hinge();
        using var accelerator = new LossAccelerator();

        PairStepResult expected = chain.ForwardBackward(batch, loss, accelerator);
        PairStepResult actual = fused.ForwardBackward(batch, loss, accelerator);

        ExpectSameStep(chain, fused, expected, actual, Tolerance(Precision.F32));
    }

    [Test]
    public void ScoresMatchTheChain()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 3);
        Randomize(model, seed: 9);
        int[] tokens = Tokens(new Random(2), Tiny, Lengths, SeqLen);

        float[] fused = model.Score(tokens, Lengths, Lengths.Length, SeqLen);
        model.FusedHead = false;
        float[] chain = model.Score(tokens, Lengths, Lengths.Length, SeqLen);

        Assert.That(RelativeError(Array.ConvertAll(fused, v => (double)v), Array.ConvertAll(chain, v => (double)v)),
            Is.LessThanOrEqualTo(Tolerance(Precision.F32)));
    }

    private static void ExpectSameStep(RewardModel chain, RewardModel fused, PairStepResult expected,
        PairStepResult actual, double tolerance)
    {
        Assert.That(RelativeError(Rewards(actual), Rewards(expected)), Is.LessThanOrEqualTo(tolerance), "rewards");
        Assert.That(actual.Loss, Is.EqualTo(expected.Loss).Within(tolerance * 100).Percent, "loss");
        ExpectSameGradients(chain, fused, tolerance);
    }
}
