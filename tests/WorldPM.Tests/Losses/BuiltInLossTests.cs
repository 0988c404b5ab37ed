using WorldPM.Losses;
using WorldPM.Native;
using static WorldPM.Tests.Losses.LossBatches;

namespace WorldPM.Tests.Losses;

/// <summary>
/// Every built-in loss on its ILGPU kernel: the value against the float64 reference of the tests, the gradient against
/// central differences of that reference, and the kernel Bradley-Terry against the native fused op.
/// </summary>
public class BuiltInLossTests
{
    private const int Pairs = 37;
    private LossAccelerator accelerator = null!;

    [OneTimeSetUp]
    public void StartAccelerator() => accelerator = new LossAccelerator();

    [OneTimeTearDown]
    public void StopAccelerator() => accelerator.Dispose();

    private static IPreferenceLoss Loss(string name, double smoothing) =>
        name == PreferenceLosses.BradleyTerryName ? PreferenceLosses.BradleyTerryKernel()
        : name == PreferenceLosses.SmoothedBradleyTerryName ? PreferenceLosses.SmoothedBradleyTerry(smoothing)
        : PreferenceLosses.Create(name);

    [Test]
    public void ValueAndGradientMatchTheFloat64ReferenceAndCentralDifferences(
        [Values("bt", "bt-margin", "bt-smooth", "hinge")] string name, [Values] bool withMargins, [Values] bool withWeights)
    {
        const double smoothing = 0.15, h = 1e-3;
        var b = new LossBatches(Pairs, seed: 11);
        IPreferenceLoss loss = Loss(name, smoothing);
        float[] dChosen = new float[Pairs], dRejected = new float[Pairs];

        double value = loss.Compute(accelerator, new PreferenceLossBatch(b.Chosen, b.Rejected,
            withMargins ? b.Margins : default, withWeights ? b.Weights : default), dChosen, dRejected);

        double[] chosen = Wide(b.Chosen), rejected = Wide(b.Rejected);
        double[]? margins = withMargins ? Wide(b.Margins) : null, weights = withWeights ? Wide(b.Weights) : null;
        double Reference(double[] c, double[] r) => LossReference.Mean(name, c, r, margins, weights, smoothing);
        double expected = Reference(chosen, rejected);
        Assert.That(value, Is.EqualTo(expected).Within(2e-6 * Math.Max(1, Math.Abs(expected))), "loss");

        int checkedPairs = 0;
        for (int i = 0; i < Pairs; i++)
        {
            double gap = chosen[i] - rejected[i], margin = margins?[i] ?? (name == "hinge" ? 1 : 0);
            if (name == "hinge" && Math.Abs(margin - gap) < 4 * h) continue;  // the kink: no derivative there
            checkedPairs++;
            double Central(double[] side)
            {
                double saved = side[i];
                side[i] = saved + h;
                double up = Reference(chosen, rejected);
                side[i] = saved - h;
                double down = Reference(chosen, rejected);
                side[i] = saved;
                return (up - down) / (2 * h);
            }
            Assert.That(dChosen[i], Is.EqualTo(Central(chosen)).Within(2e-6), $"d loss / d chosen[{i}]");
            Assert.That(dRejected[i], Is.EqualTo(Central(rejected)).Within(2e-6), $"d loss / d rejected[{i}]");
        }
        Assert.That(checkedPairs, Is.GreaterThan(Pairs / 2), "most pairs are away from the hinge's kink");
    }

    [Test]
    public void TheKernelBradleyTerryEqualsTheNativeFusedOpWithin1e6([Values] bool withWeights)
    {
        var b = new LossBatches(Pairs, seed: 5);
        using WorldPMContext context = Model.ModelTestKit.Context();
        using DeviceBuffer<float> chosen = context.Upload<float>(b.Chosen), rejected = context.Upload<float>(b.Rejected);
        using DeviceBuffer<float>? weights = withWeights ? context.Upload<float>(b.Weights) : null;
        using DeviceBuffer<float> loss = context.Allocate<float>(1);
        using DeviceBuffer<float> dChosen = context.Allocate<float>(Pairs), dRejected = context.Allocate<float>(Pairs);
        Ops.BradleyTerryLossForward(context, chosen, rejected, loss, weights: weights);
        Ops.BradleyTerryLossBackward(context, chosen, rejected, dChosen, dRejected, weights: weights);
        float[] kernelChosen = new float[Pairs], kernelRejected = new float[Pairs];

        double value = PreferenceLosses.BradleyTerryKernel().Compute(accelerator,
            new PreferenceLossBatch(b.Chosen, b.Rejected, b.Margins, withWeights ? b.Weights : default), kernelChosen, kernelRejected);

        Assert.That(value, Is.EqualTo(loss.ToArray()[0]).Within(1e-6));
        Assert.That(kernelChosen, Is.EqualTo(dChosen.ToArray()).Within(1e-6));
        Assert.That(kernelRejected, Is.EqualTo(dRejected.ToArray()).Within(1e-6));
    }

    [Test]
    public void TheLossAloneNeedsNoGradientSpans()
    {
        var b = new LossBatches(Pairs, seed: 2);
        double value = PreferenceLosses.Hinge().Compute(accelerator, new PreferenceLossBatch(b.Chosen, b.Rejected, b.Margins), default, default);
        Assert.That(value, Is.EqualTo(LossReference.Mean("hinge", Wide(b.Chosen), Wide(b.Rejected), Wide(b.Margins), null)).Within(1e-5));
    }

    [Test]
    public void AUserWrittenTermRunsOnTheKernel()
    {
        var b = new LossBatches(Pairs, seed: 8);
        var loss = new KernelLoss<SquaredHingeTerm>("squared-hinge", default) { UsesMargins = true };
        float[] dChosen = new float[Pairs], dRejected = new float[Pairs];

        double value = loss.Compute(accelerator, new PreferenceLossBatch(b.Chosen, b.Rejected, b.Margins, b.Weights), dChosen, dRejected);

        double total = 0, weight = 0;
        for (int i = 0; i < Pairs; i++)
        {
            double shortfall = Math.Max(0, 1 + (double)b.Margins[i] - ((double)b.Chosen[i] - b.Rejected[i]));
            total += b.Weights[i] * shortfall * shortfall;
            weight += b.Weights[i];
            Assert.That(dChosen[i], Is.EqualTo(-2 * shortfall * b.Weights[i] / TotalWeight(b)).Within(1e-5), $"pair {i}");
            Assert.That(dRejected[i], Is.EqualTo(-dChosen[i]));
        }
        Assert.That(value, Is.EqualTo(total / weight).Within(1e-5 * total / weight));

        static double TotalWeight(LossBatches b) => b.Weights.Sum(w => (double)w);
    }
}
