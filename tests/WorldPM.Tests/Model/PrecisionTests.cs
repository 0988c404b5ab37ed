using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// f16 and bf16 models against the fp32 model with the same master weights: they differ by storage rounding only
/// (weights, activations, gradients), every op computing in fp32. The storage tolerance of docs/numerics.md, "Tolerances" (1e-2) is
/// per op; the whole model compounds some twenty roundings, so the bounds scale with the format's unit roundoff:
/// fp16 (u = 2^-11) keeps rewards and loss under 1e-2 and the gradient under 3e-2; bf16 (u = 2^-8, eight times
/// coarser) under 4e-2 and 1e-1. Measured on this randomized model over nine weight seeds (the test uses 21):
/// fp16 rewards 0.9e-3 to 7.3e-3, loss up to 2.5e-3, whole gradient 3e-3 to 1.2e-2; bf16 rewards 1.0e-2 to
/// 3.5e-2, loss up to 1.9e-2, whole gradient 1.7e-2 to 7.9e-2 (seed 21: 1.5e-2, 1.8e-3, 3.4e-2).
/// </summary>
public class PrecisionTests
{
    private const int Pairs = 4, SeqLen = 9;
    private static readonly int[] Lengths = [9, 3, 6, 1, 7, 9, 2, 5];

    /// <summary>fp16 runs with a loss scale as its trainer would (and the test divides it out); bf16 needs none.</summary>
    private static float LossScaleOf(Precision precision) => precision == Precision.F16 ? 1024f : 1f;

    private static double OutputTolerance(Precision precision) => precision == Precision.F16 ? 1e-2 : 4e-2;

    private static double GradientTolerance(Precision precision) => precision == Precision.F16 ? 3e-2 : 1e-1;

    /// <summary>Precision and DType are separate enums (a model's storage mode has no i32); StorageType is the one
    /// conversion, and every precision stores in the dtype of its name.</summary>
    [Test]
    public void EveryPrecisionStoresInTheDTypeOfItsName()
    {
        foreach (Precision precision in Enum.GetValues<Precision>())
            Assert.That(precision.StorageType(), Is.EqualTo(Enum.Parse<DType>(precision.ToString())), precision.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((Precision)99).StorageType());
    }

    [TestCase(Precision.BF16)]
    [TestCase(Precision.F16)]
    public void RewardsLossAndGradientsMatchTheFp32Model(Precision precision)
    {
        using WorldPMContext context = Context();
        using var reference = new RewardModel(context, Tiny, seed: 3);
        using var model = new RewardModel(context, Tiny, seed: 3, precision);
        Randomize(reference, seed: 21);
        Randomize(model, seed: 21);
        int[] tokens = Tokens(new Random(8), Tiny, Lengths, SeqLen);
        float scale = LossScaleOf(precision);

        PairStepResult expected = reference.ForwardBackward(tokens, Lengths, Pairs, SeqLen);
        PairStepResult actual = model.ForwardBackward(tokens, Lengths, Pairs, SeqLen, lossScale: scale);

        double rewardError = RelativeError(Rewards(actual), Rewards(expected));
        double lossError = Math.Abs(actual.Loss - expected.Loss) / expected.Loss;
        TestContext.Out.WriteLine($"{precision}: rewards relative error {rewardError:E2}, loss {lossError:E2}");
        Assert.That(rewardError, Is.LessThan(OutputTolerance(precision)));
        Assert.That(lossError, Is.LessThan(OutputTolerance(precision)));

        double[] all = [], allExpected = [];
        foreach ((Parameter p, Parameter r) in model.Parameters.Zip(reference.Parameters))
        {
            double[] g = Array.ConvertAll(p.Grad.ToFloats(), v => v / (double)scale);
            double[] gRef = Array.ConvertAll(r.Grad.ToFloats(), v => (double)v);
            all = [.. all, .. g];
            allExpected = [.. allExpected, .. gRef];
            double error = RelativeError(g, gRef);
            TestContext.Out.WriteLine($"  {p.Name}: relative error {error:E2} (||g_ref|| = {Norm(gRef):E2})");
        }
        double total = RelativeError(all, allExpected);
        TestContext.Out.WriteLine($"  whole gradient: relative error {total:E2}");
        Assert.That(total, Is.LessThan(GradientTolerance(precision)));
        Assert.That(all, Has.All.Matches<double>(double.IsFinite));
    }

    [TestCase(Precision.BF16)]
    [TestCase(Precision.F16)]
    public void TheWorkingWeightsAreTheRoundedMasterWeights(Precision precision)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 5, precision);
        Randomize(model, seed: 2);

        foreach (Parameter p in model.Parameters)
        {
            Assert.That(p.Working.DType, Is.EqualTo(precision.StorageType()), p.Name);
            Assert.That(p.Grad.DType, Is.EqualTo(precision.StorageType()), p.Name);
            float[] rounded = Array.ConvertAll(p.Value.ToArray(), v => Round(v, precision));
            Assert.That(p.Working.ToFloats(), Is.EqualTo(rounded), p.Name);
        }
    }

    [Test]
    public void AnFp32ModelWorksOnItsMasterWeights()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 5);

        Assert.That(model.Parameters, Has.All.Matches<Parameter>(p => ReferenceEquals(p.Working, p.Value)));
        Assert.That(model.ParameterGradients.DType, Is.EqualTo(DType.F32));
    }

    [TestCase(Precision.BF16)]
    [TestCase(Precision.F16)]
    public void EveryPrecisionStartsFromTheSameMasterWeights(Precision precision)
    {
        using WorldPMContext context = Context();
        using var reference = new RewardModel(context, Tiny, seed: 9);
        using var model = new RewardModel(context, Tiny, seed: 9, precision);

        Assert.That(model.ParameterValues.ToArray(), Is.EqualTo(reference.ParameterValues.ToArray()));
    }


    private static float Round(float value, Precision precision) =>
        precision == Precision.F16 ? (float)(Half)value : (float)(BFloat16)value;
}
