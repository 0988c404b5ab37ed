using WorldPM.Tokenization;
using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tests.Checkpoints;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Training;

/// <summary>fp16 and bf16 training: the fp16 loss scaler's skips, back-off and growth, loss curves against fp32,
/// and exact resume.</summary>
public class MixedPrecisionTrainingTests
{
    private sealed class Interrupted : Exception;

    private static readonly TrainingOptions Optimizer = new() { PairsPerMicroBatch = 4, LearningRate = 1e-2, Seed = 5 };

    private static List<PairBatch> Batch(ModelConfig config, List<TokenizedPair> pairs, int step) =>
        [new PairBatch(config, [.. Enumerable.Range(0, 4).Select(i => pairs[(4 * step + i) % pairs.Count])])];

    private static void AssertAllFinite(RewardModel model)
    {
        Assert.That(model.ParameterValues.ToArray(), Has.All.Matches<float>(float.IsFinite), "master weights");
        foreach (Parameter p in model.Parameters)
            Assert.That(p.Working.ToFloats(), Has.All.Matches<float>(float.IsFinite), p.Name);
    }

    private static float[] Moments(Trainer trainer)
    {
        var state = new TrainingState();
        trainer.SaveState(state);
        // The moments only: an f16 state also holds the fp32 master weights.
        return [.. state.Tensors.Values.Where(t => !t.Name.EndsWith(TrainingState.MasterName(""), StringComparison.Ordinal)).SelectMany(t => t.ToFloats())];
    }

    [Test]
    public void AnFp16OverflowSkipsTheStepAndHalvesTheScale()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2, Precision.F16);
        using var trainer = new Trainer(context, model, Optimizer with { InitialLossScale = 1e30 }, totalSteps: 10);
        List<TokenizedPair> pairs = TrainingRunTests.Pairs(8);
        float[] weights = model.ParameterValues.ToArray();
        float[] working = model.Parameters.SelectMany(p => p.Working.ToFloats()).ToArray();

        StepMetrics m = trainer.TrainStep(Batch(model.Config, pairs, 0));

        Assert.That(m.Skipped, Is.True);
        Assert.That(m.LossScale, Is.EqualTo(1e30f));
        Assert.That(model.ParameterValues.ToArray(), Is.EqualTo(weights), "master weights bitwise unchanged");
        Assert.That(model.Parameters.SelectMany(p => p.Working.ToFloats()), Is.EqualTo(working), "working weights unchanged");
        Assert.That(Moments(trainer), Is.All.Zero, "moments untouched");
        Assert.That((trainer.Step, trainer.Updates), Is.EqualTo((1L, 0L)));
        Assert.That(trainer.Scaler.Scale, Is.EqualTo(5e29f));
    }

    [Test]
    public void AfterOverflowsTheScaleBacksOffUntilStepsGoThrough()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2, Precision.F16);
        const float initial = 1L << 40;
        using var trainer = new Trainer(context, model, Optimizer with { InitialLossScale = initial }, totalSteps: 60);
        List<TokenizedPair> pairs = TrainingRunTests.Pairs(16);

        List<StepMetrics> steps = [.. Enumerable.Range(0, 40).Select(i => trainer.TrainStep(Batch(model.Config, pairs, i)))];

        int first = steps.TakeWhile(m => m.Skipped).Count();
        int skipped = steps.Count(m => m.Skipped);
        TestContext.Out.WriteLine($"{first} skipped steps, then loss scale {steps[first].LossScale}; {skipped} skipped in all");
        Assert.That(first, Is.InRange(1, 30));
        Assert.That(skipped - first, Is.LessThan(5), "once the scale fits, steps go through");
        for (int i = 1; i < steps.Count; i++)
            Assert.That(steps[i].LossScale, Is.EqualTo(steps[i - 1].Skipped ? steps[i - 1].LossScale / 2 : steps[i - 1].LossScale),
                $"step {i + 1}: each overflow halves the scale (no growth within 2000 steps)");
        Assert.That(trainer.Updates, Is.EqualTo(40 - skipped));
        Assert.That(steps[^1].Loss, Is.LessThan(steps[first].Loss));
        AssertAllFinite(model);
    }

    [Test]
    public void TheFp16ScaleGrowsAfterTheGrowthIntervalOfCleanSteps()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2, Precision.F16);
        using var trainer = new Trainer(context, model,
            Optimizer with { InitialLossScale = 256, LossScaleGrowthInterval = 3 }, totalSteps: 10);
        List<TokenizedPair> pairs = TrainingRunTests.Pairs(8);

        double[] scales = [.. Enumerable.Range(0, 7).Select(i => trainer.TrainStep(Batch(model.Config, pairs, i)).LossScale)];

        Assert.That(scales, Is.EqualTo(new double[] { 256, 256, 256, 512, 512, 512, 1024 }));
        AssertAllFinite(model);
    }

    [TestCase(Precision.F32)]
    [TestCase(Precision.BF16)]
    public void OnlyFp16ScalesTheLoss(Precision precision)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2, precision);
        using var trainer = new Trainer(context, model, Optimizer, totalSteps: 10);

        StepMetrics m = trainer.TrainStep(Batch(model.Config, TrainingRunTests.Pairs(8), 0));

        Assert.That((m.LossScale, m.Skipped), Is.EqualTo((1.0, false)));
    }

    /// <summary>The same run (weights, data order) in fp32 and in half storage: the loss curves stay within
    /// 0.05 of each other on average (measured: see the test output).</summary>
    [TestCase(Precision.BF16)]
    [TestCase(Precision.F16)]
    public void AHalfPrecisionRunTracksTheFp32LossCurve(Precision precision)
    {
        List<TokenizedPair> pairs = TrainingRunTests.Pairs(64);
        var options = new TrainingRunOptions
        {
            Training = new TrainingOptions { PairsPerMicroBatch = 8, LearningRate = 1e-2, Seed = 5 },
            Steps = 40,
        };
        List<double> expected = Train(pairs, options, Precision.F32);
        List<double> actual = Train(pairs, options, precision);

        double meanDifference = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Average();
        double maxDifference = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        TestContext.Out.WriteLine($"{precision} vs F32 over {expected.Count} steps: mean |loss difference| " +
            $"{meanDifference:F4}, max {maxDifference:F4}; loss {expected[0]:F4} -> {expected[^1]:F4} (fp32), " +
            $"{actual[0]:F4} -> {actual[^1]:F4} ({precision.ToString().ToLowerInvariant()})");
        Assert.That(meanDifference, Is.LessThan(0.05));
        Assert.That(actual.TakeLast(10).Average(), Is.LessThan(actual.Take(10).Average() - 0.1), "it learns");
    }

    [Test]
    public void AResumedFp16RunContinuesTheUninterruptedRunBitwise()
    {
        List<TokenizedPair> pairs = TrainingRunTests.Pairs(23);
        // A scale that overflows at first and a short growth interval: the scaler's state changes along the run.
        TrainingRunOptions Options(string dir) => new()
        {
            Training = new TrainingOptions
            {
                PairsPerMicroBatch = 4, AccumulationSteps = 2, LearningRate = 1e-2, Seed = 5,
                InitialLossScale = 1L << 26, LossScaleGrowthInterval = 2,
            },
            Steps = 14,
            OutputDirectory = dir,
            CheckpointEvery = 3,
        };
        using var full = new TempDirectory();
        var expected = new List<StepMetrics>();
        Train(pairs, Options(full.Path), Precision.F16, expected.Add);

        using var broken = new TempDirectory();
        Train(pairs, Options(broken.Path), Precision.F16, stopAfter: 11);  // last checkpoint: step 9
        var after = new List<StepMetrics>();
        Train(pairs, Options(broken.Path) with { Resume = true }, Precision.F16, after.Add);

        TestContext.Out.WriteLine(string.Join(" ", expected.Select(m => $"{m.LossScale}{(m.Skipped ? "(skip)" : "")}")));
        Assert.That(expected.Select(m => m.Skipped), Has.Some.True.And.Some.False);
        Assert.That(expected.Select(m => m.LossScale).Distinct().Count(), Is.GreaterThan(2));
        Assert.That(after.Select(Key), Is.EqualTo(expected.Skip(9).Select(Key)), "steps 10..14 after resuming from step 9");
    }

    [Test]
    public void ABf16CheckpointHoldsBf16WeightsAndItsFp32MastersInTheTrainingState()
    {
        List<TokenizedPair> pairs = TrainingRunTests.Pairs(12);
        using var dir = new TempDirectory();
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2, Precision.BF16);
        TrainingRun.Run(context, model, pairs, null, new TrainingRunOptions { Training = Optimizer, Steps = 3, OutputDirectory = dir.Path });

        string checkpoint = new CheckpointStore(dir.Path).LatestDirectory()!;
        using ModelCheckpointReader reader = ModelCheckpoint.Open(checkpoint);
        TrainingState state = TrainingStateFile.Read(Path.Combine(checkpoint, TrainingStateFile.FileName));
        float[] all = model.ParameterValues.ToArray();
        Assert.That(all.Any(v => (float)(BFloat16)v != v), Is.True, "training moved masters off the bf16 grid");
        foreach (Parameter p in model.Parameters)
        {
            float[] master = p.Value.ToArray();
            Assert.That(reader[p.Name].DType, Is.EqualTo(TensorDType.BF16), p.Name);
            Assert.That(reader.Read(p.Name).ToFloats(), Is.EqualTo(master.Select(v => (float)(BFloat16)v).ToArray()), p.Name);
            Assert.That(state.Tensors[TrainingState.MasterName(p.Name)].Values<float>().ToArray(), Is.EqualTo(master), p.Name);
        }
    }

    private static (double Loss, double Scale, bool Skipped, double GradNorm) Key(StepMetrics m) =>
        (m.Loss, m.LossScale, m.Skipped, m.GradNorm);

    private static List<double> Train(List<TokenizedPair> pairs, TrainingRunOptions options, Precision precision,
        Action<StepMetrics>? onStep = null, int? stopAfter = null)
    {
        var losses = new List<double>();
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2, precision);
        try
        {
            TrainingRun.Run(context, model, pairs, null, options, onStep: m =>
            {
                losses.Add(m.Loss);
                onStep?.Invoke(m);
                if (m.Step == stopAfter) throw new Interrupted();
            });
        }
        catch (Interrupted)
        {
        }
        AssertAllFinite(model);
        return losses;
    }
}
