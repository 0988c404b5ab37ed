using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// The whole model's gradient from <see cref="RewardModel.ForwardBackward"/> against central finite
/// differences of the float64 reference loss, tensor by tensor: ||g - g_ref|| / ||g_ref|| &lt;= 1e-4.
/// </summary>
public class GradientCheckTests
{
    private const int Pairs = 2, SeqLen = 5;
    private static readonly int[] Lengths = [5, 1, 3, 4];
    private const double Step = 1e-5;

    /// <summary>Below this ||g_ref|| a tensor's gradient is zero by symmetry (score.2.bias: the loss depends on
    /// reward differences only), and the check is absolute.</summary>
    private const double ZeroGradient = 1e-9;

    [TestCase(HeadActivation.GeluTanh, false)]
    [TestCase(HeadActivation.GeluExact, true)]
    [TestCase(HeadActivation.Relu, false)]
    public void EveryParameterGradientMatchesFiniteDifferencesOfTheReference(HeadActivation activation, bool weighted)
    {
        ModelConfig config = Tiny with { HeadActivation = activation };
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, config, seed: 3);
        Randomize(model, seed: 11);
        var random = new Random(5);
        int[] tokens = Tokens(random, config, Lengths, SeqLen);
        float[]? weights = weighted ? [0.25f, 1.5f] : null;

        model.ForwardBackward(tokens, Lengths, Pairs, SeqLen, weights: weights);

        Dictionary<string, double[]> values = Values(model);
        var reference = new ReferenceRewardModel(config, values);
        foreach (Parameter p in model.Parameters)
        {
            double[] expected = FiniteDifferences(values[p.Name], () => reference.Loss(tokens, Lengths, Pairs, SeqLen, weights));
            double[] actual = Array.ConvertAll(p.Grad.ToFloats(), g => (double)g);
            double norm = Norm(expected);
            if (norm < ZeroGradient)
            {
                TestContext.Out.WriteLine($"{p.Name}: ||g_ref|| = {norm:E1}, ||g|| = {Norm(actual):E1}");
                Assert.That(Norm(actual), Is.LessThan(1e-6), p.Name);
                continue;
            }
            double error = RelativeError(actual, expected);
            TestContext.Out.WriteLine($"{p.Name}: relative error {error:E2} (||g_ref|| = {norm:E2})");
            Assert.That(error, Is.LessThanOrEqualTo(1e-4), p.Name);
        }
    }

    /// <summary>d loss / d values[i] for every i, by (f(v + h) - f(v - h)) / 2h, restoring each value.</summary>
    private static double[] FiniteDifferences(double[] values, Func<double> loss)
    {
        var gradient = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double saved = values[i];
            values[i] = saved + Step;
            double plus = loss();
            values[i] = saved - Step;
            double minus = loss();
            values[i] = saved;
            gradient[i] = (plus - minus) / (2 * Step);
        }
        return gradient;
    }
}
