using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tasks;
using WorldPM.Tokenization;
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

    // docs/numerics.md, "Mixed-precision training": a half-precision model computes the fp32 model's steps. Along the
    // fp32 run of the demo, every 20 steps, a half model is given the fp32 masters and both take the next micro-batch:
    // the losses agree within 0.005 and the gradients point the same way (cosine >= 0.99, norms within 15 %: near the
    // ln 2 plateau the gradient is small by cancellation over pairs, and bf16's rounding of each pair's terms moved its
    // norm by 5.6 % at one point of a run, cosine 0.9990; a gradient off by a factor, such as a lost loss scale or a
    // doubled term, is far outside). Comparing whole loss curves instead measures when each run leaves the initial
    // plateau, which any rounding difference moves by tens of steps: over 120 steps and seeds 1-3 the bf16 curve's mean
    // distance from fp32 was 0.035/0.035/0.054 with the chain of head ops and 0.104/0.106/0.023 with the fused head, the
    // larger figures each a run that escaped the plateau earlier than fp32 (its loss lower), not a wrong step.
    [Convergence]
    [TestCase(Precision.BF16)]
    [TestCase(Precision.F16)]
    public void HalfPrecisionComputesTheFp32StepsAlongTheDemoRun(Precision precision)
    {
        using var context = WorldPMContext.Create(TestBackend.Kind);
        var options = new EmbeddedDemoOptions { Steps = 120, HeldOutPairs = 50, EvalEvery = 0 };
        var encoder = new PairEncoder(new ChatTemplate(ByteTokenizer.Instance), options.Model.MaxPositionEmbeddings);
        using var full = new RewardModel(context, options.Model, options.Seed);
        using var half = new RewardModel(context, options.Model, options.Seed, precision);
        using var trainer = new Trainer(context, full, options.Training with { Seed = options.Seed }, options.Steps);
        // fp16 gradients of a loss near log 2 underflow without a scale; the comparison divides it out.
        float scale = precision == Precision.F16 ? 1024f : 1f;
        long next = 0;
        PairBatch NextBatch() => new(full.Config, [.. Enumerable.Range(0, options.Training.PairsPerMicroBatch)
            .Select(_ => encoder.Encode(EmbeddedTask.Train(options.Seed, next++)))]);
        (float Loss, double[] Grads) Step(RewardModel model, PairBatch batch, float lossScale)
        {
            model.ZeroGrad();
            float loss = model.ForwardBackward(batch, lossScale).Loss;
            return (loss, [.. model.Parameters.SelectMany(p => p.Grad.ToFloats()).Select(g => (double)g / lossScale)]);
        }

        while (true)
        {
            PairBatch batch = NextBatch();
            if (trainer.Step % 20 == 0)
            {
                half.ParameterValues.CopyFrom(full.ParameterValues);
                half.SyncWorkingWeights();
                var (halfLoss, halfGrads) = Step(half, batch, scale);
                var (fullLoss, fullGrads) = Step(full, batch, 1f);
                double dot = fullGrads.Zip(halfGrads, (a, b) => a * b).Sum();
                double fullNorm = Math.Sqrt(fullGrads.Sum(a => a * a)), halfNorm = Math.Sqrt(halfGrads.Sum(b => b * b));
                string at = $"step {trainer.Step}: loss {fullLoss:F5} (fp32) {halfLoss:F5} ({precision}), gradient cosine " +
                    $"{dot / (fullNorm * halfNorm):F5}, norm ratio {halfNorm / fullNorm:F4}";
                TestContext.Out.WriteLine(at);
                Assert.That(halfLoss, Is.EqualTo(fullLoss).Within(0.005), at);
                Assert.That(dot / (fullNorm * halfNorm), Is.GreaterThanOrEqualTo(0.99), at);
                Assert.That(halfNorm / fullNorm, Is.InRange(0.85, 1.15), at);
            }
            if (trainer.Step == options.Steps) break;
            trainer.TrainStep([batch]);
        }

        var losses = new List<double>();
        EmbeddedDemo.Run(context, options with { Precision = precision }, onStep: m => losses.Add(m.Loss));
        Assert.That(losses, Has.All.Matches<double>(double.IsFinite));
        Assert.That(losses.TakeLast(20).Average(), Is.LessThan(losses.Take(20).Average()), "the half-precision run learns");
    }
}
