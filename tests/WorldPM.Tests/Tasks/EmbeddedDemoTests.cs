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
            new EmbeddedDemoOptions { Steps = 400, HeldOutPairs = 300, EvalEvery = 0 }, onStep: m => losses.Add(m.Loss));

        Assert.That(result.Steps, Is.EqualTo(400));
        Assert.That(losses[0], Is.EqualTo(Math.Log(2)).Within(0.05), "an untrained model scores both sides alike");
        Assert.That(losses.TakeLast(20).Average(), Is.LessThan(0.35), "well below log 2 = 0.693");
        Assert.That(result.HeldOut.Overall.Pairs, Is.EqualTo(300));
        // Chance is 0.5. When a short run leaves the initial plateau moves with the kernels' rounding: 250 steps
        // stayed on it (last losses 0.62) with OpenBLAS's SkylakeX kernels, an Intel AVX-512 host's, and left it with
        // the Haswell/Zen ones. 400 steps leave it with margin on every kernel set tried (SkylakeX, Haswell,
        // Sandybridge: last-20 mean 0.02-0.10, held out 99 %); the full demo's promise is the next test's.
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

    // docs/numerics.md, "Mixed-precision training": bf16/fp16 runs track the fp32 loss curve on the embedded task. Tolerance: the mean absolute
    // difference of the per-step losses over the run stays under 0.05 (the loss starts at 0.693). The comparison keeps
    // AdamW's beta2 at 0.999: with the demo's 0.95 these 120 steps are the chaotic escape from the initial plateau,
    // where a bf16-sized rounding difference moves the escape by tens of steps (measured: bf16 0.128 from fp32, fp16
    // 0.020), which says nothing about whether the half-precision kernels compute the same steps.
    [Convergence]
    [TestCase(Precision.BF16)]
    [TestCase(Precision.F16)]
    public void HalfPrecisionTracksTheFp32LossCurve(Precision precision)
    {
        using var context = WorldPMContext.Create(TestBackend.Kind);
        List<double> Curve(Precision p)
        {
            var losses = new List<double>();
            var options = new EmbeddedDemoOptions { Steps = 120, HeldOutPairs = 50, EvalEvery = 0, Precision = p };
            EmbeddedDemo.Run(context, options with { Training = options.Training with { Beta2 = 0.999 } },
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
