using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>Gradients add up across calls, scale with the loss scale, and ZeroGrad clears them.</summary>
public class GradientAccumulationTests
{
    private const int SeqLen = 4;
    private static readonly int[] LengthsA = [4, 2, 1, 3];
    private static readonly int[] LengthsB = [3, 4, 4, 2];

    private WorldPMContext context = null!;
    private RewardModel model = null!;
    private int[] tokensA = null!, tokensB = null!;

    [SetUp]
    public void CreateModel()
    {
        context = Context();
        model = new RewardModel(context, Tiny, seed: 4);
        Randomize(model, seed: 5);
        tokensA = Tokens(new Random(1), Tiny, LengthsA, SeqLen);
        tokensB = Tokens(new Random(2), Tiny, LengthsB, SeqLen);
    }

    [TearDown]
    public void DisposeModel()
    {
        model.Dispose();
        context.Dispose();
    }

    [Test]
    public void TwoCallsAccumulateTheSumOfTheirGradients()
    {
        Dictionary<string, float[]> a = GradientOf(tokensA, LengthsA);
        Dictionary<string, float[]> b = GradientOf(tokensB, LengthsB);

        model.ForwardBackward(tokensA, LengthsA, 2, SeqLen);
        model.ForwardBackward(tokensB, LengthsB, 2, SeqLen);

        foreach (Parameter p in model.Parameters)
        {
            double[] sum = [.. a[p.Name].Zip(b[p.Name], (x, y) => (double)x + y)];
            double[] accumulated = Array.ConvertAll(p.Grad.ToFloats(), g => (double)g);
            if (Norm(sum) > 0) Assert.That(RelativeError(accumulated, sum), Is.LessThan(1e-6), p.Name);
        }
    }

    [Test]
    public void TheLossScaleMultipliesTheGradientButNotTheLoss()
    {
        Dictionary<string, float[]> plain = GradientOf(tokensA, LengthsA);
        float loss = model.ForwardBackward(tokensA, LengthsA, 2, SeqLen).Loss;
        model.ZeroGrad();

        float scaledLoss = model.ForwardBackward(tokensA, LengthsA, 2, SeqLen, lossScale: 256f).Loss;

        Assert.That(scaledLoss, Is.EqualTo(loss));
        foreach (Parameter p in model.Parameters)
        {
            double[] expected = Array.ConvertAll(plain[p.Name], g => 256.0 * g);
            double[] actual = Array.ConvertAll(p.Grad.ToFloats(), g => (double)g);
            if (Norm(expected) > 0) Assert.That(RelativeError(actual, expected), Is.LessThan(1e-6), p.Name);
        }
    }

    [Test]
    public void ZeroGradClearsEveryGradient()
    {
        model.ForwardBackward(tokensA, LengthsA, 2, SeqLen);
        Assert.That(model.ParameterGradients.ToFloats().Any(g => g != 0), Is.True);

        model.ZeroGrad();

        Assert.That(model.ParameterGradients.ToFloats(), Is.All.Zero);
        Assert.That(model.Parameters.SelectMany(p => p.Grad.ToFloats()), Is.All.Zero);
    }

    [Test]
    public void ScoringLeavesGradientsAlone()
    {
        model.ForwardBackward(tokensA, LengthsA, 2, SeqLen);
        float[] before = model.ParameterGradients.ToFloats();

        model.Score(tokensB, LengthsB, 4, SeqLen);

        Assert.That(model.ParameterGradients.ToFloats(), Is.EqualTo(before));
    }

    /// <summary>The gradient of one call on zeroed gradients (left zeroed after).</summary>
    private Dictionary<string, float[]> GradientOf(int[] tokens, int[] lengths)
    {
        model.ZeroGrad();
        model.ForwardBackward(tokens, lengths, 2, SeqLen);
        Dictionary<string, float[]> grads = Grads(model);
        model.ZeroGrad();
        return grads;
    }
}
