using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;
using static WorldPM.Tests.Training.StepReadBackTests;

namespace WorldPM.Tests.Training;

/// <summary>
/// Data parallelism on the emu backend inside this process: a world of one rank (two ranks under mpirun are the
/// CLI's DataParallelTrainTests), with buckets small enough that the last backward starts several of them. An
/// optimizer step waits for the device at most once (the exchange's read-back of every bucket and the metric sums),
/// and trains the weights of the same trainer without data parallelism: the mean over one rank is the identity, so
/// the weights agree bit for bit and the metrics are the same sums; the gradient norm, computed on the host in
/// float64 from the reduced copy, agrees with the device's float32 norm to its rounding.
/// </summary>
[BackendNeutral]  // names its backends itself: WORLDPM_BACKEND changes nothing for it
public class DataParallelStepTests
{
    [TestCase(Precision.F32, 1)]
    [TestCase(Precision.F32, 3)]
    [TestCase(Precision.BF16, 3)]
    public void AStepWaitsForTheDeviceOnceAndTrainsTheWeightsOfOneProcess(Precision precision, int microBatches)
    {
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        using var comm = Communicator.Create(emu);
        using var model = new RewardModel(emu, Tiny, seed: 2, precision);
        using var reference = new RewardModel(emu, Tiny, seed: 2, precision);
        using var parallel = new DataParallel(comm, model, bucketElements: model.ParameterGradients.Count / 4);
        TrainingOptions options = Optimizer with { AccumulationSteps = microBatches };
        using var trainer = new Trainer(emu, model, options, totalSteps: 4, parallel);
        using var alone = new Trainer(emu, reference, options, totalSteps: 4);

        for (int step = 0; step < 3; step++)
        {
            List<PairBatch> batches = MicroBatches(Tiny, microBatches, step);
            DeviceCounters before = emu.DeviceCounters!;
            StepMetrics m = trainer.TrainStep(batches);
            DeviceCounters spent = emu.DeviceCounters!.Since(before);
            StepMetrics r = alone.TrainStep(batches);

            Assert.That(m.HostWaits, Is.EqualTo(spent.HostWaits), "the step reports what the platform counted");
            if (step > 0)  // the first step also builds the activation arena
                Assert.That(spent.HostWaits, Is.LessThanOrEqualTo(1), $"step {m.Step}: {spent}");
            Assert.That((m.Loss, m.Accuracy, m.Margin, m.Tokens, m.Skipped), Is.EqualTo((r.Loss, r.Accuracy, r.Margin, r.Tokens, r.Skipped)),
                $"step {m.Step}");
            Assert.That(m.GradNorm, Is.EqualTo(r.GradNorm).Within(1e-5).Percent, $"step {m.Step}");
            Assert.That(double.IsFinite(m.GradNorm) && m.GradNorm > 0, Is.True, m.ToString());
        }
        Assert.That(model.ParameterValues.ToArray(), Is.EqualTo(reference.ParameterValues.ToArray()), "fp32 masters");
        Assert.That(model.Parameters.SelectMany(p => p.Working.ToFloats()),
            Is.EqualTo(reference.Parameters.SelectMany(p => p.Working.ToFloats())), "working weights");
    }

    // A gradient that is inf in the host copy is the step the device skips: the host's flag and the device's agree.
    [Test]
    public void AnOverflowSeenInTheHostCopySkipsTheStepOnTheDeviceToo()
    {
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        using var comm = Communicator.Create(emu);
        using var model = new RewardModel(emu, Tiny, seed: 2, Precision.F16);
        using var parallel = new DataParallel(comm, model);
        using var trainer = new Trainer(emu, model, Optimizer with { InitialLossScale = 1e30 }, totalSteps: 4, parallel);
        float[] weights = model.ParameterValues.ToArray();

        StepMetrics m = trainer.TrainStep(MicroBatches(Tiny, 1, 0));

        Assert.That((m.Skipped, trainer.Updates), Is.EqualTo((true, 0L)));
        Assert.That(double.IsFinite(m.GradNorm), Is.False);
        Assert.That(model.ParameterValues.ToArray(), Is.EqualTo(weights), "the device skipped the update");
    }
}
