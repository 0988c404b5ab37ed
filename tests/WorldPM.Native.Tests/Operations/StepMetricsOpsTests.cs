using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Tests.Support.Reference;

namespace WorldPM.Native.Tests.Operations;

/// <summary>What lets a training step keep its metrics on the device until one read-back: the pair metrics against a
/// float64 reference, and AdamW's gradient check (skip on the flag, clip by the norm) against the plain step given the
/// factor the host would have computed.</summary>
[TestFixture]
public sealed class StepMetricsOpsTests : OpFixture
{
    [Test]
    public void PairMetricsAddLossAccuracyAndMarginIntoTheSums()
    {
        const int pairs = 37;
        float[] rewards = Random(110, 2 * pairs);
        rewards[5] = rewards[pairs + 5];  // a tie is not a correct pair
        float[] start = [1.5f, 2f, -0.25f];
        var metrics = Arena.Upload(start);

        Ops.PairMetrics(Context, Arena.Upload(rewards), Arena.Upload(new[] { 0.75f }), pairs, metrics);

        double correct = Enumerable.Range(0, pairs).Count(i => rewards[i] > rewards[pairs + i]);
        double margin = Enumerable.Range(0, pairs).Sum(i => (double)rewards[i] - rewards[pairs + i]);
        Assert.That(correct, Is.InRange(1, pairs - 1), "the data has correct and wrong pairs");
        double[] expected = [start[0] + 0.75 * pairs, start[1] + correct, start[2] + margin];
        Assert.That(RelativeError(metrics.ToArray(), expected), Is.LessThan(Fp32Elementwise));
        Assert.That(metrics.ToArray()[1], Is.EqualTo(expected[1]), "the count is exact");
    }

    [Test]
    public void PairMetricsReadOnlyTheFirstTwoPRewards()
    {
        float[] rewards = [1, 0, 0, 1, 9, -9];  // 2 pairs, then values past 2 P that must not count
        var metrics = Arena.F32(3);
        metrics.Fill(0);

        Ops.PairMetrics(Context, Arena.Upload(rewards), Arena.Upload(new[] { 2f }), 2, metrics);

        Assert.That(metrics.ToArray(), Is.EqualTo(new[] { 4f, 1f, 0f }));
    }

    [Test]
    public void AnAdamWStepWithAFlaggedGradientCheckChangesNothing()
    {
        float[] p = Random(111, 9), g = Random(112, 9), m = Random(113, 9, -0.1, 0.1), v = Random(114, 9, 0, 0.1);
        var working = Arena.F16(9);
        working.Fill(0.5);
        var tensor = new AdamWTensor(Arena.Upload(p), Arena.Upload(g), Arena.Upload(m), Arena.Upload(v)) { Working = working };

        Ops.AdamWStep(Context, [tensor], new AdamWSettings(1e-2f) { MaxGradNorm = 1 }, 2,
            gradCheck: Arena.Upload(new[] { 1f, 3f }));

        Assert.That(tensor.Parameter.ToArray(), Is.EqualTo(p));
        Assert.That(tensor.M.ToArray(), Is.EqualTo(m));
        Assert.That(tensor.V.ToArray(), Is.EqualTo(v));
        Assert.That(working.ToArray(), Has.All.EqualTo((Half)0.5));
    }

    // The norm in the check is at the gradients' scale (here 1 / GradScale = 4 times the unscaled one). Clipping to
    // maxNorm must give what a plain step with the factor maxNorm / (unscaled norm + 1e-6) * GradScale gives, and no
    // clipping (a norm under maxNorm, or maxNorm 0) what the plain step with GradScale gives.
    [TestCase(4.0f, 0.5f, true)]
    [TestCase(0.1f, 0.5f, false)]
    [TestCase(4.0f, 0f, false)]
    public void AnAdamWStepWithAGradientCheckClipsByTheNormOnTheDevice(float storedNorm, float maxNorm, bool clips)
    {
        const float gradScale = 0.25f;
        float[] p = Random(115, 33), g = Random(116, 33), m = Random(117, 33, -0.1, 0.1), v = Random(118, 33, 0, 0.1);
        double unscaled = storedNorm * (double)gradScale;
        double factor = clips ? maxNorm / (unscaled + 1e-6) * gradScale : gradScale;
        Assert.That(unscaled > maxNorm && maxNorm > 0, Is.EqualTo(clips), "the case clips or not as named");
        var checkedStep = new AdamWTensor(Arena.Upload(p), Arena.Upload(g), Arena.Upload(m), Arena.Upload(v));
        var plainStep = new AdamWTensor(Arena.Upload(p), Arena.Upload(g), Arena.Upload(m), Arena.Upload(v));
        var settings = new AdamWSettings(1e-2f) { Epsilon = 1f, WeightDecay = 0.1f };

        Ops.AdamWStep(Context, [checkedStep], settings with { GradScale = gradScale, MaxGradNorm = maxNorm }, 3,
            gradCheck: Arena.Upload(new[] { 0f, storedNorm }));
        Ops.AdamWStep(Context, [plainStep], settings with { GradScale = (float)factor }, 3);

        Assert.That(checkedStep.Parameter.ToArray(), Is.EqualTo(plainStep.Parameter.ToArray()));
        Assert.That(checkedStep.M.ToArray(), Is.EqualTo(plainStep.M.ToArray()));
        Assert.That(checkedStep.Parameter.ToArray(), Is.Not.EqualTo(p), "the step moved the weights");
    }
}
