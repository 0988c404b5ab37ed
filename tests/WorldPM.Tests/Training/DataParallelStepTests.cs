using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;
using static WorldPM.Tests.Training.StepReadBackTests;

namespace WorldPM.Tests.Training;

/// <summary>
/// Data parallelism on the emu backend inside this process: a world of one rank (two ranks under mpirun are the
/// CLI's DataParallelTrainTests), with buckets small enough that the last backward starts several of them. The
/// collectives are queued on the emulator's stream, so an optimizer step waits for the device at most once (the
/// metrics' read-back, which runs them), trains the weights of the same trainer without data parallelism (the mean
/// over one rank is the identity, so the weights and the metrics agree bit for bit), and can be recorded into a
/// device graph whose replays give the bits of eager data-parallel steps.
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
            Assert.That(m.GradNorm, Is.EqualTo(r.GradNorm), $"step {m.Step}: the device's norm of the same gradients");
            Assert.That(double.IsFinite(m.GradNorm) && m.GradNorm > 0, Is.True, m.ToString());
        }
        Assert.That(model.ParameterValues.ToArray(), Is.EqualTo(reference.ParameterValues.ToArray()), "fp32 masters");
        Assert.That(model.Parameters.SelectMany(p => p.Working.ToFloats()),
            Is.EqualTo(reference.Parameters.SelectMany(p => p.Working.ToFloats())), "working weights");
    }

    // A gradient that overflows after the exchange: the device skips the step and the metrics say so.
    [Test]
    public void AnOverflowAfterTheExchangeSkipsTheStep()
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

    /// <summary>A data-parallel trainer of its own emu context and communicator (a world of one).</summary>
    private sealed class ParallelRun : IDisposable
    {
        public readonly WorldPMContext Context = WorldPMContext.Create(Backend.Emu, threads: 2);
        public readonly Communicator Comm;
        public readonly RewardModel Model;
        public readonly DataParallel Parallel;
        public readonly Trainer Trainer;

        public ParallelRun(CudaGraphs graphs, Precision precision, bool zero1, int steps)
        {
            Comm = Communicator.Create(Context);
            Model = new RewardModel(Context, Tiny, seed: 3, precision) { CudaGraphs = graphs };
            Parallel = new DataParallel(Comm, Model, bucketElements: Model.ParameterGradients.Count / 4) { ShardOptimizerState = zero1 };
            Trainer = new Trainer(Context, Model, RecordedStepTests.Optimizer with { AccumulationSteps = 2 }, totalSteps: steps, Parallel);
        }

        public void Dispose()
        {
            Trainer.Dispose();
            Parallel.Dispose();
            Model.Dispose();
            Comm.Dispose();
            Context.Dispose();
        }
    }

    // The data-parallel step recorded into a device graph (CudaGraphs On): its bucketed all-reduces (or ZeRO-1's
    // reduce-scatter, sums and all-gathers) are queued on the stream and recorded with the step, so the replays give
    // the bits of eager data-parallel steps of a twin in the metrics and the weights, and a replayed step waits for
    // the device once. Every step has its own learning rate and batch content, the shape stays.
    [TestCase(false, Precision.F32)]
    [TestCase(false, Precision.BF16)]
    [TestCase(true, Precision.F32)]
    [TestCase(true, Precision.BF16)]
    public void RecordedStepsGiveTheBitsOfEagerSteps(bool zero1, Precision precision)
    {
        const int steps = 5;
        using var recorded = new ParallelRun(CudaGraphs.On, precision, zero1, steps);
        using var eager = new ParallelRun(CudaGraphs.Off, precision, zero1, steps);
        float[] initial = eager.Model.ParameterValues.ToArray();
        for (int step = 0; step < steps; step++)
        {
            List<PairBatch> batches = RecordedStepTests.StepBatches(step, 2, seqLen: 6, weighted: true);
            DeviceCounters before = recorded.Context.DeviceCounters!;
            StepMetrics r = recorded.Trainer.TrainStep(batches);
            DeviceCounters spent = recorded.Context.DeviceCounters!.Since(before);
            StepMetrics e = eager.Trainer.TrainStep(batches);
            Assert.That(RecordedStepTests.Metrics(r), Is.EqualTo(RecordedStepTests.Metrics(e)), $"step {step + 1}'s metrics");
            Assert.That(e.Skipped, Is.False);
            if (step >= 2)  // the first runs eagerly and builds, the second records
                Assert.That(spent.HostWaits, Is.LessThanOrEqualTo(1), $"replayed step {step + 1}: {spent}");
        }
        Assert.That(RecordedStepTests.Bits(recorded.Model.ParameterValues.ToArray()),
            Is.EqualTo(RecordedStepTests.Bits(eager.Model.ParameterValues.ToArray())), "fp32 master weights");
        Assert.That(RecordedStepTests.Bits(recorded.Model.Parameters.SelectMany(p => p.Working.ToFloats())),
            Is.EqualTo(RecordedStepTests.Bits(eager.Model.Parameters.SelectMany(p => p.Working.ToFloats()))), "working weights");
        Assert.That(eager.Model.ParameterValues.ToArray(), Is.Not.EqualTo(initial), "the steps moved the weights");
        Assert.That(recorded.Trainer.ReplayedSteps, Is.EqualTo(steps - 1));
    }
}
