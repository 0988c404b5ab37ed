using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// The last layer run at the scoring rows only (the default) against the same layer run at every token
/// (<see cref="RewardModel.FullLastLayer"/>): the same function and gradient, up to fp32 round-off (relative 1e-5).
/// </summary>
public class LastLayerScoringRowsTests
{
    private const int Pairs = 4, SeqLen = 7;
    private static readonly int[] Lengths = [7, 1, 4, 6, 2, 7, 3, 5];
    private const double Tolerance = 1e-5;

    [TestCase(2)]
    [TestCase(1)]
    public void RewardsAndEveryParameterGradientMatchTheFullLastLayer(int layers)
    {
        ModelConfig config = Tiny with { NumHiddenLayers = layers };
        using WorldPMContext context = Context();
        using var full = new RewardModel(context, config, seed: 3) { FullLastLayer = true };
        using var scoring = new RewardModel(context, config, seed: 3);
        Randomize(full, seed: 17);
        Randomize(scoring, seed: 17);
        int[] tokens = Tokens(new Random(4), config, Lengths, SeqLen);

        PairStepResult expected = full.ForwardBackward(tokens, Lengths, Pairs, SeqLen);
        PairStepResult actual = scoring.ForwardBackward(tokens, Lengths, Pairs, SeqLen);

        Assert.That(RelativeError(Rewards(actual), Rewards(expected)), Is.LessThanOrEqualTo(Tolerance));
        Assert.That(actual.Loss, Is.EqualTo(expected.Loss).Within(Tolerance * 100).Percent);  // relative 1e-5, like the rest
        ExpectSameGradients(full, scoring, Tolerance);
    }

    [Test]
    public void ScoresMatchTheFullLastLayer()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 3);
        Randomize(model, seed: 9);
        int[] tokens = Tokens(new Random(2), Tiny, Lengths, SeqLen);

        float[] scoring = model.Score(tokens, Lengths, Lengths.Length, SeqLen);
        model.FullLastLayer = true;
        float[] full = model.Score(tokens, Lengths, Lengths.Length, SeqLen);

        Assert.That(RelativeError(Array.ConvertAll(scoring, v => (double)v), Array.ConvertAll(full, v => (double)v)),
            Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void TheScoringRowLayoutDropsTheLastLayersTokenLevelSecondBlockAndTheHeadOutput()
    {
        var shape = new BatchShape(Tiny, Lengths.Length, SeqLen);
        long n = shape.N, b = shape.B, c = shape.C, i = shape.Mlp, q = shape.QWidth;
        ArenaSizer full = Plan(shape, fullLastLayer: true), scoring = Plan(shape, fullLastLayer: false);

        long dropped = (2 * c + 3 * i) * n + c * n, added = (5 * c + 4 * q + 6 * i) * b;
        // Each region starts aligned, so the sizes agree up to the padding of the regions that differ.
        Assert.That(full.Size - scoring.Size, Is.EqualTo(dropped - added).Within(16 * ParameterStore.Alignment));
        Assert.That(full.F32Size - scoring.F32Size, Is.EqualTo(n - b).Within(2 * ParameterStore.Alignment));
    }

    private static ArenaSizer Plan(BatchShape shape, bool fullLastLayer)
    {
        var sizer = new ArenaSizer();
        _ = new ActivationLayout<long, long>(sizer, shape, fullLastLayer, ActivationPlan.KeepAll);
        return sizer;
    }

}
