using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Workloads;

/// <summary>
/// W4: one optimizer step of the <see cref="ReferenceModel"/> through the real <see cref="RewardModel"/> and
/// <see cref="Trainer"/> (forward, BT loss, backward, clip, AdamW lr 1e-4 wd 0.01, fp32) on 8 pairs (16 sequences) of
/// T=256 random tokens, fresh every repetition (2 pairs of T=32 under a quick run). Against the GEMM ceiling in model
/// FLOPs (<see cref="ReferenceModel.ModelFlops"/>, forward + backward); the run's peak RSS is reported beside it.
/// With <see cref="BenchSettings.Bf16"/> the same step also runs in bf16 (bf16 working weights, activations and
/// gradients, fp32 masters and AdamW moments), alternating with fp32 step by step; the peak RSS then covers both.
/// </summary>
public sealed class TrainingStepWorkload : IWorkload
{
    public string Id => "W4";

    public string Title => "reward-model training step (4 layers, d 512, GQA 8/2)";

    public IReadOnlyList<WorkloadResult> Run(WorldPMContext context, BenchSettings settings, SeedSequence seeds)
    {
        int pairs = settings.Pick(8, 2), tokens = settings.Pick(256, 32);
        string shape = $"{2 * pairs} sequences x T={tokens}";
        using var fp32 = new TimedTrainer(context, settings, seeds, Precision.F32);
        if (!settings.Bf16)
        {
            PairBatch[] batch = [];
            Timing timing = Timing.Measure(context, settings,
                () => batch = [RandomPairs(pairs, tokens, seeds.NextInt())],
                () => fp32.Trainer.TrainStep(batch));
            return [Result("step_ms", $"{shape}, fp32, AdamW", timing, fp32.Model, pairs, tokens)];
        }
        using var bf16 = new TimedTrainer(context, settings, seeds, Precision.BF16);
        PairBatch[] batch32 = [], batch16 = [];
        (Timing t32, Timing t16) = Timing.MeasureAlternating(context, settings.Repetitions,
            (() => batch32 = [RandomPairs(pairs, tokens, seeds.NextInt())], () => fp32.Trainer.TrainStep(batch32)),
            (() => batch16 = [RandomPairs(pairs, tokens, seeds.NextInt())], () => bf16.Trainer.TrainStep(batch16)));
        return
        [
            Result("step_ms", $"{shape}, fp32, AdamW", t32, fp32.Model, pairs, tokens),
            Result("step_ms_bf16", $"{shape}, bf16 (fp32 masters), AdamW", t16, bf16.Model, pairs, tokens) with { Fp32 = t32 },
        ];
    }

    private WorkloadResult Result(string metric, string shape, Timing timing, RewardModel model, int pairs, int tokens) =>
        new(Id, metric, shape, timing, ReferenceModel.ModelFlops(model, 2 * pairs, tokens, passes: 3), CeilingKind.Gemm,
            "FLOPs 6*non-embedding params*tokens + 3*layers*4*B*H*T^2*D/2", 0.75);

    /// <summary>The reference model in one precision and the trainer that steps it.</summary>
    private sealed class TimedTrainer : IDisposable
    {
        public TimedTrainer(WorldPMContext context, BenchSettings settings, SeedSequence seeds, Precision precision)
        {
            Model = new RewardModel(context, ReferenceModel.Config, seeds.NextInt(), precision);
            var options = new TrainingOptions
            {
                PairsPerMicroBatch = settings.Pick(8, 2),
                LearningRate = 1e-4,
                WeightDecay = 0.01,
                WarmupFraction = 0,  // every timed step at the full learning rate; warmup changes no work
            };
            Trainer = new Trainer(context, Model, options, totalSteps: settings.Repetitions + 1);
        }

        public RewardModel Model { get; }

        public Trainer Trainer { get; }

        public void Dispose()
        {
            Trainer.Dispose();
            Model.Dispose();
        }
    }

    private static PairBatch RandomPairs(int pairs, int tokens, int seed)
    {
        (int[] ids, _) = ReferenceModel.RandomBatch(2 * pairs, tokens, seed);
        return new PairBatch(ReferenceModel.Config, Enumerable.Range(0, pairs)
            .Select(i => new TokenizedPair(ids[(i * tokens)..((i + 1) * tokens)], ids[((pairs + i) * tokens)..((pairs + i + 1) * tokens)]))
            .ToList());
    }
}
