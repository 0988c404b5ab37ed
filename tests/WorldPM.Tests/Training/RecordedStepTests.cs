using WorldPM.Losses;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Training;

/// <summary>
/// Training steps recorded into device graphs (<see cref="RewardModel.CudaGraphs"/> On) on emu, which enforces the
/// capture rules a GPU has, so these tests prove the step capturable: N recorded-and-replayed steps must give the
/// bits of N eager steps of a twin (same weights, same micro-batches) in the weights, the losses and the metrics, with
/// a learning rate that changes at every step (a recording that baked one in would drift); a call a replay could not
/// repeat makes On fail naming it.
/// </summary>
[BackendNeutral]  // names its backends itself: WORLDPM_BACKEND changes nothing for it
public class RecordedStepTests
{
    // Warm-up then cosine decay over 6 steps: every step has its own learning rate.
    internal static readonly TrainingOptions Optimizer = new()
    {
        PairsPerMicroBatch = 2, LearningRate = 1e-2, WarmupFraction = 0.34, Decay = DecayKind.Cosine, MaxGradNorm = 0.5,
        Seed = 5,
    };

    private const int Steps = 6;

    /// <summary>Micro-batch m of step s: 2 pairs padded to <paramref name="seqLen"/>, lengths, ids and (when
    /// <paramref name="weighted"/>) pair weights drawn from the seed, so every step's batches differ in content but
    /// not in shape.</summary>
    private static PairBatch MicroBatch(int step, int m, int seqLen, bool weighted)
    {
        var random = new Random(100 * step + m);
        int[] lengths = [.. Enumerable.Range(0, 4).Select(_ => random.Next(1, seqLen + 1))];
        var sequences = SequenceBatch.FromPadded(Tiny, Tokens(random, Tiny, lengths, seqLen), lengths, 4, seqLen);
        float[] weights = weighted ? [0.5f + (float)random.NextDouble(), 0.25f + (float)random.NextDouble()] : [];
        return new PairBatch(sequences, weights);
    }

    internal static List<PairBatch> StepBatches(int step, int microBatches, int seqLen, bool weighted = false) =>
        [.. Enumerable.Range(0, microBatches).Select(m => MicroBatch(step, m, seqLen, weighted))];

    private sealed class Run : IDisposable
    {
        public readonly WorldPMContext Context = WorldPMContext.Create(Backend.Emu, threads: 2);
        public readonly RewardModel Model;
        public readonly Trainer Trainer;

        public Run(CudaGraphs graphs, Precision precision, int microBatches)
            : this(graphs, precision, Optimizer with { AccumulationSteps = microBatches }, Steps)
        {
        }

        public Run(CudaGraphs graphs, Precision precision, TrainingOptions options, int steps)
        {
            Model = new RewardModel(Context, Tiny, seed: 3, precision) { CudaGraphs = graphs };
            Trainer = new Trainer(Context, Model, options, totalSteps: steps);
        }

        public void Dispose()
        {
            Trainer.Dispose();
            Model.Dispose();
            Context.Dispose();
        }
    }

    internal static int[] Bits(IEnumerable<float> values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    internal static object[] Metrics(StepMetrics m) =>
        [m.Loss, m.Accuracy, m.Margin, m.GradNorm, m.LearningRate, m.Tokens, m.Skipped];

    [TestCase(Precision.F32, 1, false)]
    [TestCase(Precision.F32, 3, true)]
    [TestCase(Precision.BF16, 1, true)]
    [TestCase(Precision.BF16, 3, false)]
    public void RecordedStepsGiveTheBitsOfEagerSteps(Precision precision, int microBatches, bool weighted)
    {
        using var recorded = new Run(CudaGraphs.On, precision, microBatches);
        using var eager = new Run(CudaGraphs.Off, precision, microBatches);
        float[] initial = eager.Model.ParameterValues.ToArray();
        var rates = new HashSet<double>();
        for (int step = 0; step < Steps; step++)
        {
            List<PairBatch> batches = StepBatches(step, microBatches, seqLen: 6, weighted);
            StepMetrics r = recorded.Trainer.TrainStep(batches);
            StepMetrics e = eager.Trainer.TrainStep(batches);
            Assert.That(Metrics(r), Is.EqualTo(Metrics(e)), $"step {step + 1}'s metrics");
            Assert.That(e.Skipped, Is.False);
            rates.Add(e.LearningRate);
        }
        Assert.That(rates, Has.Count.EqualTo(Steps - 1), "a new learning rate at every step but the peak's two");
        Assert.That(Bits(recorded.Model.ParameterValues.ToArray()), Is.EqualTo(Bits(eager.Model.ParameterValues.ToArray())),
            "fp32 master weights");
        Assert.That(Bits(recorded.Model.Parameters.SelectMany(p => p.Working.ToFloats())),
            Is.EqualTo(Bits(eager.Model.Parameters.SelectMany(p => p.Working.ToFloats()))), "working weights");
        Assert.That(eager.Model.ParameterValues.ToArray(), Is.Not.EqualTo(initial), "the steps moved the weights");
        // The first step runs eagerly, the second is recorded and launched, the rest are launched.
        Assert.That(recorded.Trainer.ReplayedSteps, Is.EqualTo(Steps - 1));
        Assert.That(eager.Trainer.ReplayedSteps, Is.EqualTo(0));
    }

    // Packed micro-batches (the trainer's default layout): the same sequence lengths in a new order and new tokens at
    // every step, so the step's shape (sequences, token rows, longest sequence) repeats while the offsets, which the
    // recording must not bake in, change.
    [TestCase(Precision.F32)]
    [TestCase(Precision.BF16)]
    public void RecordedPackedStepsGiveTheBitsOfEagerSteps(Precision precision)
    {
        using var recorded = new Run(CudaGraphs.On, precision, 1);
        using var eager = new Run(CudaGraphs.Off, precision, 1);
        int[] lengths = [7, 2, 5, 3];
        for (int step = 0; step < Steps; step++)
        {
            var random = new Random(300 + step);
            int[][] sequences = [.. lengths.OrderBy(_ => random.Next()).Select(n => Tokens(random, Tiny, [n], n))];
            List<PairBatch> batches = [new PairBatch(SequenceBatch.FromSequences(Tiny, sequences, SequenceLayout.Packed), [])];
            Assert.That(Metrics(recorded.Trainer.TrainStep(batches)), Is.EqualTo(Metrics(eager.Trainer.TrainStep(batches))),
                $"step {step + 1}");
        }
        Assert.That(Bits(recorded.Model.ParameterValues.ToArray()), Is.EqualTo(Bits(eager.Model.ParameterValues.ToArray())));
        Assert.That(recorded.Trainer.ReplayedSteps, Is.EqualTo(Steps - 1));
    }

    // Packed micro-batches whose lengths change at every step, as real data's do: a recorded step runs each rounded up
    // to its length bucket (LengthBuckets), so steps 1-6 (33 to 36 tokens, longest 16: bucket 36) share one recording
    // and steps 7-8 (37 and 40 tokens: bucket 40) another. The eager twin runs the real tokens only; the filler must
    // change no bit of the metrics or the weights.
    [TestCase(Precision.F32, 1)]
    [TestCase(Precision.BF16, 3)]
    public void RecordedPackedStepsOfVaryingLengthsReplayTheirLengthBucket(Precision precision, int microBatches)
    {
        int[][] lengths = [[16, 9, 5, 3], [12, 16, 2, 4], [7, 7, 16, 5], [16, 6, 8, 6], [10, 16, 4, 4], [3, 16, 14, 2],
            [16, 9, 9, 3], [16, 16, 4, 4]];
        TrainingOptions options = Optimizer with { AccumulationSteps = microBatches };
        using var recorded = new Run(CudaGraphs.On, precision, options, lengths.Length);
        using var eager = new Run(CudaGraphs.Off, precision, options, lengths.Length);
        var tokenCounts = new HashSet<long>();
        for (int step = 0; step < lengths.Length; step++)
        {
            List<PairBatch> batches = [.. Enumerable.Range(0, microBatches).Select(m =>
            {
                var random = new Random(500 + 10 * step + m);
                int[][] sequences = [.. lengths[step].OrderBy(_ => random.Next()).Select(n => Tokens(random, Tiny, [n], n))];
                return new PairBatch(SequenceBatch.FromSequences(Tiny, sequences, SequenceLayout.Packed));
            })];
            tokenCounts.Add(batches[0].TokenCount);
            StepMetrics r = recorded.Trainer.TrainStep(batches);
            StepMetrics e = eager.Trainer.TrainStep(batches);
            Assert.That(Metrics(r), Is.EqualTo(Metrics(e)), $"step {step + 1}");
            Assert.That(recorded.Trainer.ReplayedSteps, Is.EqualTo(step < 6 ? step : step - 1),
                $"replays after step {step + 1}: a bucket's first step runs eagerly, the rest replay");
        }
        Assert.That(tokenCounts, Has.Count.EqualTo(6), "token counts 33 to 36, 37 and 40");
        Assert.That(Bits(recorded.Model.ParameterValues.ToArray()), Is.EqualTo(Bits(eager.Model.ParameterValues.ToArray())),
            "fp32 master weights");
        Assert.That(Bits(recorded.Model.Parameters.SelectMany(p => p.Working.ToFloats())),
            Is.EqualTo(Bits(eager.Model.Parameters.SelectMany(p => p.Working.ToFloats()))), "working weights");
    }

    // Shape A (eager, recorded), B (eager, recorded), A again (still recorded: replayed at once), then a new padded
    // length C; each against the eager twin. A is the longest, so the activations sized for it hold them all (a
    // larger shape would rebuild them, and every recording would start over).
    [Test]
    public void EachStepShapeRunsEagerlyOnceAndIsReplayedAfter()
    {
        using var recorded = new Run(CudaGraphs.On, Precision.F32, 1);
        using var eager = new Run(CudaGraphs.Off, Precision.F32, 1);
        int[] seqLens = [9, 9, 6, 6, 9, 5];
        for (int step = 0; step < seqLens.Length; step++)
        {
            List<PairBatch> batches = StepBatches(step, 1, seqLens[step]);
            Assert.That(Metrics(recorded.Trainer.TrainStep(batches)), Is.EqualTo(Metrics(eager.Trainer.TrainStep(batches))),
                $"step {step + 1}");
        }
        Assert.That(Bits(recorded.Model.ParameterValues.ToArray()), Is.EqualTo(Bits(eager.Model.ParameterValues.ToArray())));
        Assert.That(recorded.Trainer.ReplayedSteps, Is.EqualTo(3), "A's 2nd and 3rd steps, B's 2nd");
    }

    [Test]
    public void OnEmuAutoRunsTheStepEagerly()
    {
        using var auto = new Run(CudaGraphs.Auto, Precision.F32, 1);
        for (int step = 0; step < 3; step++) auto.Trainer.TrainStep(StepBatches(step, 1, 6));
        Assert.That(auto.Trainer.ReplayedSteps, Is.EqualTo(0));
    }

    [Test]
    public void OnIsRefusedForAStepThatCannotBeRecordedNamingTheReason()
    {
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        using var model = new RewardModel(emu, Tiny, seed: 3, Precision.F32) { CudaGraphs = CudaGraphs.On };
        var options = Optimizer with { Loss = PreferenceLosses.Create(PreferenceLosses.HingeName, null) };
        var e = Assert.Throws<NotSupportedException>(() => new Trainer(emu, model, options, totalSteps: Steps).Dispose());
        Assert.That(e!.Message, Does.Contain("CudaGraphs On").And.Contain("runs on the host"));
    }

    // fp16 with a loss scale that starts far too high (every step overflows until it has halved enough) and grows
    // after 2 clean steps, so the scale keeps coming back to one that overflows: the recorded run replays steps that
    // are skipped (scale halves) and steps after which it doubles, and each must give the eager twin's bits. The scale
    // is part of a recording's key, so the first step at each scale runs eagerly.
    [TestCase(1)]
    [TestCase(3)]
    public void RecordedFp16StepsGiveTheBitsOfEagerStepsThroughOverflowsAndGrowth(int microBatches)
    {
        const int steps = 16;
        TrainingOptions options = Optimizer with
        {
            AccumulationSteps = microBatches, InitialLossScale = Fp16InitialScale, LossScaleGrowthInterval = 2,
        };
        using var recorded = new Run(CudaGraphs.On, Precision.F16, options, steps);
        using var eager = new Run(CudaGraphs.Off, Precision.F16, options, steps);
        int replayedSkips = 0, replayedGrowths = 0, updates = 0;
        for (int step = 0; step < steps; step++)
        {
            List<PairBatch> batches = StepBatches(step, microBatches, seqLen: 6);
            long replaysBefore = recorded.Trainer.ReplayedSteps;
            float scaleBefore = recorded.Trainer.Scaler.Scale;
            StepMetrics r = recorded.Trainer.TrainStep(batches);
            StepMetrics e = eager.Trainer.TrainStep(batches);
            Assert.That((object[])[.. Metrics(r), r.LossScale], Is.EqualTo((object[])[.. Metrics(e), e.LossScale]),
                $"step {step + 1}'s metrics");
            if (!e.Skipped) updates++;
            if (recorded.Trainer.ReplayedSteps == replaysBefore) continue;
            if (r.Skipped) replayedSkips++;
            if (recorded.Trainer.Scaler.Scale > scaleBefore) replayedGrowths++;
        }
        Assert.That(Bits(recorded.Model.ParameterValues.ToArray()), Is.EqualTo(Bits(eager.Model.ParameterValues.ToArray())),
            "fp32 master weights");
        Assert.That(Bits(recorded.Model.Parameters.SelectMany(p => p.Working.ToFloats())),
            Is.EqualTo(Bits(eager.Model.Parameters.SelectMany(p => p.Working.ToFloats()))), "f16 working weights");
        Assert.That(recorded.Trainer.ReplayedSteps, Is.GreaterThanOrEqualTo(6));
        Assert.That(replayedSkips, Is.GreaterThanOrEqualTo(1), "replayed steps that overflowed (skipped, scale halved)");
        Assert.That(replayedGrowths, Is.GreaterThanOrEqualTo(1), "replayed steps after which the scale doubled");
        Assert.That(updates, Is.GreaterThanOrEqualTo(4), "steps that updated the weights");
    }

    /// <summary>A loss scale the tiny model's fp16 gradients overflow at (its first steps are all skipped).</summary>
    private const double Fp16InitialScale = 1 << 20;

    // The recorder itself, over a step that reads a buffer back: On fails naming the call at the capture (the
    // second run); Auto runs that shape eagerly from then on.
    [TestCase(true)]
    [TestCase(false)]
    public void AReadBackInsideTheStepFailsOnNamingTheCall(bool required)
    {
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        using var model = new RewardModel(emu, Tiny, seed: 3, Precision.F32);
        using var steps = new RecordedSteps(emu, required);
        List<PairBatch> batches = StepBatches(0, 1, 6);
        int ran = 0;
        void Step(IReadOnlyList<StagedPairs> staged)
        {
            model.ForwardBackwardOnDevice(staged[0], 1f, gradientsFinalFrom: null);
            _ = model.ParameterGradients.ToFloats();  // a read-back
            ran++;
        }

        steps.Run(model, batches, 1f, [1f], Step);
        if (required)
        {
            var e = Assert.Throws<WorldPMArgumentException>(() => steps.Run(model, batches, 1f, [1f], Step));
            Assert.That(e!.Message, Does.Contain("wpm_buffer_read").And.Contain("during graph capture"));
            return;
        }
        steps.Run(model, batches, 1f, [1f], Step);
        steps.Run(model, batches, 1f, [1f], Step);
        Assert.That((ran, steps.Replays, steps.Unrecordable), Is.EqualTo((3, 0L, 1)));
    }
}
