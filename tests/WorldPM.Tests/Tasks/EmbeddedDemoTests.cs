using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tasks;
using WorldPM.Training;

namespace WorldPM.Tests.Tasks;

/// <summary>End to end: tokenizer, template, model, trainer and evaluator learn the embedded task.</summary>
public class EmbeddedDemoTests
{
    [Convergence]
    [Test]
    public void ShortRunLearnsTheHeldOutSplit()
    {
        using var context = WorldPMContext.Create(TestBackend.Kind);
        var losses = new List<double>();
        EmbeddedDemoResult result = EmbeddedDemo.Run(context,
            new EmbeddedDemoOptions { Steps = 250, HeldOutPairs = 300, EvalEvery = 0 }, onStep: m => losses.Add(m.Loss));

        Assert.That(result.Steps, Is.EqualTo(250));
        Assert.That(losses[0], Is.EqualTo(Math.Log(2)).Within(0.05), "an untrained model scores both sides alike");
        Assert.That(losses.TakeLast(20).Average(), Is.LessThan(0.35), "well below log 2 = 0.693");
        Assert.That(result.HeldOut.Overall.Pairs, Is.EqualTo(300));
        // Chance is 0.5. After 250 of the demo's 1000 steps the accuracy depends on the trajectory: measured over seeds
        // 1-6 it spans 0.69-0.91, and seed 1 alone gave 0.87-0.91 as kernels' rounding changed (2026-11-24). The
        // full demo's promise is the next test's.
        Assert.That(result.HeldOut.Overall.Accuracy, Is.GreaterThan(0.8));
    }

    [Convergence]
    [Test]
    public void TheDefaultRunReachesTheDemosPromisedAccuracy()
    {
        // What `worldpm demo` runs. It promises 95 % held out (DemoCommand.TargetAccuracy); the recipe is meant to
        // clear that with margin on any host's rounding, so this asks for 98 %: a recipe that reaches 95 % only on
        // some hosts' trajectories (as the one before Beta2 = 0.95 did) fails here.
        using var context = WorldPMContext.Create(TestBackend.Kind);
        EmbeddedDemoResult result = EmbeddedDemo.Run(context, new EmbeddedDemoOptions { EvalEvery = 0 });
        Assert.That(result.Steps, Is.EqualTo(1000));
        Assert.That(result.HeldOut.Overall.Pairs, Is.EqualTo(600));
        Assert.That(result.HeldOut.Overall.Accuracy, Is.GreaterThanOrEqualTo(0.98));
    }

    [Convergence]
    [Test]
    public void StopsEarlyOnceTheRequestedAccuracyIsReached()
    {
        using var context = WorldPMContext.Create(TestBackend.Kind);
        var evaluations = new List<double>();
        EmbeddedDemoResult result = EmbeddedDemo.Run(context,
            new EmbeddedDemoOptions { Steps = 400, HeldOutPairs = 100, EvalEvery = 20, StopAtAccuracy = 0.7 },
            onEval: (_, r) => evaluations.Add(r.Overall.Accuracy));

        Assert.That(result.Steps, Is.LessThan(400));
        Assert.That(evaluations[^1], Is.GreaterThanOrEqualTo(0.7));
        Assert.That(evaluations.SkipLast(1), Has.All.LessThan(0.7));
    }

    // DESIGN.md: bf16/fp16 runs track the fp32 loss curve on the embedded task. Tolerance: the mean absolute
    // difference of the per-step losses over the run stays under 0.05 (the loss starts at 0.693).
    [Convergence]
    [TestCase(Precision.BF16)]
    [TestCase(Precision.F16)]
    public void HalfPrecisionTracksTheFp32LossCurve(Precision precision)
    {
        using var context = WorldPMContext.Create(TestBackend.Kind);
        List<double> Curve(Precision p)
        {
            var losses = new List<double>();
            EmbeddedDemo.Run(context, new EmbeddedDemoOptions { Steps = 120, HeldOutPairs = 50, EvalEvery = 0, Precision = p },
                onStep: m => losses.Add(m.Loss));
            return losses;
        }
        List<double> fp32 = Curve(Precision.F32), half = Curve(precision);
        double meanAbs = fp32.Zip(half, (a, b) => Math.Abs(a - b)).Average();
        TestContext.Out.WriteLine($"{precision}: mean |loss - fp32 loss| = {meanAbs:F4} over {fp32.Count} steps");
        Assert.That(half, Has.All.Matches<double>(double.IsFinite));
        Assert.That(meanAbs, Is.LessThan(0.05));
        Assert.That(half.TakeLast(20).Average(), Is.LessThan(half.Take(20).Average()), "it learns");
    }
}
