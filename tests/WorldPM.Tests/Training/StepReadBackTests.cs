using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Training;

/// <summary>
/// On the emu backend (the host code a GPU runs, with its waits counted): an optimizer step keeps its metrics on the
/// device and reads them back once at its end, whatever the precision and the number of micro-batches, and scoring
/// a batch waits once; the metrics it reads are what the pairs' own losses and rewards give, an overflow still skips
/// the step, and the clip still clips by the norm of the gradients.
/// </summary>
[BackendNeutral]  // names its backends itself: WORLDPM_BACKEND changes nothing for it
public class StepReadBackTests
{
    internal static readonly TrainingOptions Optimizer = new() { PairsPerMicroBatch = 3, LearningRate = 1e-2, Seed = 5 };

    /// <summary>Step <paramref name="step"/>'s <paramref name="count"/> micro-batches of 3 pairs each.</summary>
    internal static List<PairBatch> MicroBatches(ModelConfig config, int count, int step,
        SequenceLayout layout = SequenceLayout.Padded) =>
        [.. TrainingRunTests.Pairs(3 * count * (step + 1)).Skip(3 * count * step).Chunk(3)
            .Select(chunk => new PairBatch(config, chunk, layout))];

    // Packed: attention checks the offsets on the device too, so a packed step waits no more than a padded one.
    [TestCase(Precision.F32, 1, SequenceLayout.Padded)]
    [TestCase(Precision.F32, 3, SequenceLayout.Padded)]
    [TestCase(Precision.BF16, 1, SequenceLayout.Padded)]
    [TestCase(Precision.BF16, 3, SequenceLayout.Padded)]
    [TestCase(Precision.F32, 3, SequenceLayout.Packed)]
    [TestCase(Precision.BF16, 3, SequenceLayout.Packed)]
    public void AnOptimizerStepWaitsForTheDeviceOnce(Precision precision, int microBatches, SequenceLayout layout)
    {
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        using var model = new RewardModel(emu, Tiny, seed: 2, precision);
        using var trainer = new Trainer(emu, model, Optimizer with { AccumulationSteps = microBatches }, totalSteps: 4);
        trainer.TrainStep(MicroBatches(Tiny, microBatches, 0, layout));  // the first step also builds the activation arena

        for (int step = 1; step < 3; step++)
        {
            DeviceCounters before = emu.DeviceCounters!;
            StepMetrics m = trainer.TrainStep(MicroBatches(Tiny, microBatches, step, layout));
            DeviceCounters spent = emu.DeviceCounters!.Since(before);

            TestContext.Out.WriteLine($"{layout} {precision} x{microBatches} step {m.Step}: {spent.HostWaits} host waits");
            Assert.That(spent.HostWaits, Is.LessThanOrEqualTo(1), $"step {m.Step}: {spent}");
            Assert.That(spent.DeviceToHostCopies, Is.GreaterThanOrEqualTo(1), "the metrics come back");
            Assert.That(double.IsFinite(m.Loss) && double.IsFinite(m.GradNorm) && !m.Skipped, Is.True, m.ToString());
        }
    }

    [TestCase(Precision.F32, SequenceLayout.Padded)]
    [TestCase(Precision.BF16, SequenceLayout.Padded)]
    [TestCase(Precision.F32, SequenceLayout.Packed)]
    [TestCase(Precision.BF16, SequenceLayout.Packed)]
    public void ScoringABatchWaitsForTheDeviceOnce(Precision precision, SequenceLayout layout)
    {
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        using var model = new RewardModel(emu, Tiny, seed: 2, precision);
        SequenceBatch batch = MicroBatches(Tiny, 1, 0, layout)[0].Sequences;
        float[] first = model.Score(batch);

        DeviceCounters before = emu.DeviceCounters!;
        float[] again = model.Score(batch);

        long waits = emu.DeviceCounters!.Since(before).HostWaits;
        TestContext.Out.WriteLine($"{layout} {precision} scoring: {waits} host waits");
        Assert.That(waits, Is.LessThanOrEqualTo(1));
        Assert.That(again, Is.EqualTo(first));
    }

    // The reference: the same micro-batches through a twin model's ForwardBackward, which reads each micro-batch's
    // loss and rewards to the host; the step's metrics are their pair-weighted loss, the fraction of pairs whose
    // chosen reward is higher, and the mean margin.
    [TestCase(Precision.F32)]
    [TestCase(Precision.BF16)]
    public void TheMetricsReadOnceAreThoseOfThePairs(Precision precision)
    {
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        using var model = new RewardModel(emu, Tiny, seed: 2, precision);
        using var twin = new RewardModel(emu, Tiny, seed: 2, precision);
        using var trainer = new Trainer(emu, model, Optimizer with { AccumulationSteps = 3 }, totalSteps: 4);
        List<PairBatch> batches = MicroBatches(Tiny, 3, 0);
        double loss = 0, correct = 0, margin = 0;
        int pairs = 0;
        foreach (PairBatch batch in batches)
        {
            PairStepResult r = twin.ForwardBackward(batch);
            loss += r.Loss * (double)batch.Pairs;
            correct += r.ChosenRewards.Zip(r.RejectedRewards).Count(p => p.First > p.Second);
            margin += r.ChosenRewards.Zip(r.RejectedRewards).Sum(p => (double)p.First - p.Second);
            pairs += batch.Pairs;
        }

        StepMetrics m = trainer.TrainStep(batches);

        Assert.That(m.Loss, Is.EqualTo(loss / pairs).Within(1e-4).Percent);
        Assert.That(m.Accuracy, Is.EqualTo(correct / pairs));
        Assert.That(m.Margin, Is.EqualTo(margin / pairs).Within(1e-5));
        Assert.That(m.Tokens, Is.EqualTo(batches.Sum(b => b.TokenCount)));
    }

    [Test]
    public void AnOverflowIsSkippedAndCountedWithOneWait()
    {
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        using var model = new RewardModel(emu, Tiny, seed: 2, Precision.F16);
        using var trainer = new Trainer(emu, model, Optimizer with { InitialLossScale = 1e30 }, totalSteps: 4);
        float[] weights = model.ParameterValues.ToArray();
        float[] working = [.. model.Parameters.SelectMany(p => p.Working.ToFloats())];

        DeviceCounters before = emu.DeviceCounters!;
        StepMetrics m = trainer.TrainStep(MicroBatches(Tiny, 1, 0));
        long waits = emu.DeviceCounters!.Since(before).HostWaits;

        Assert.That((m.Skipped, trainer.Step, trainer.Updates), Is.EqualTo((true, 1L, 0L)));
        Assert.That(trainer.Scaler.Scale, Is.EqualTo(5e29f), "the overflow halved the scale");
        Assert.That(model.ParameterValues.ToArray(), Is.EqualTo(weights), "master weights bitwise unchanged");
        Assert.That(model.Parameters.SelectMany(p => p.Working.ToFloats()), Is.EqualTo(working), "working weights unchanged");
        Assert.That(waits, Is.LessThanOrEqualTo(1));

        StepMetrics next = trainer.TrainStep(MicroBatches(Tiny, 1, 1));
        Assert.That(next.LossScale, Is.EqualTo(5e29f));
        Assert.That(trainer.Updates, Is.EqualTo(next.Skipped ? 0 : 1));
    }

    // With Epsilon 1 AdamW's first update is lr * g' / (|g'| + 1) for the clipped gradient g' = c g, so it shows the
    // clip factor c. The reference takes the gradients a twin model computes for the same batch, their norm in
    // float64, c = max / (norm + 1e-6), and the update from there.
    [Test]
    public void ClippingScalesTheGradientsByTheNormOfTheGradients()
    {
        const double maxNorm = 1e-3, lr = 0.5;  // a large rate, so that the update stands far above fp32 rounding
        var options = Optimizer with
        {
            MaxGradNorm = maxNorm, LearningRate = lr, WarmupFraction = 0, Epsilon = 1, WeightDecay = 0,
        };
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        using var model = new RewardModel(emu, Tiny, seed: 2, Precision.F32);
        using var twin = new RewardModel(emu, Tiny, seed: 2, Precision.F32);
        using var trainer = new Trainer(emu, model, options, totalSteps: 4);
        List<PairBatch> batch = MicroBatches(Tiny, 1, 0);
        float[] before = model.ParameterValues.ToArray();
        twin.ZeroGrad();
        twin.ForwardBackward(batch[0]);
        double[] g = [.. twin.ParameterGradients.ToFloats().Select(v => (double)v)];
        double norm = Math.Sqrt(g.Sum(v => v * v));
        double c = maxNorm / (norm + 1e-6);

        StepMetrics m = trainer.TrainStep(batch);

        Assert.That(m.GradNorm, Is.EqualTo(norm).Within(1e-5).Percent);
        Assert.That(norm, Is.GreaterThan(10 * maxNorm), "the clip is engaged");
        double[] update = [.. model.ParameterValues.ToArray().Zip(before, (after, b) => (double)after - b)];
        double[] expected = [.. g.Select(v => -m.LearningRate * c * v / (Math.Abs(c * v) + 1))];
        double[] unclipped = [.. g.Select(v => -m.LearningRate * v / (Math.Abs(v) + 1))];
        Assert.That(RelativeError(update, expected), Is.LessThan(1e-3));
        Assert.That(RelativeError(unclipped, expected), Is.GreaterThan(0.5), "clipping makes a difference here");
    }
}
