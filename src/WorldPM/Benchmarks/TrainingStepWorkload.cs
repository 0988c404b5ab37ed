using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Training;

namespace WorldPM.Benchmarks;

/// <summary>
/// W4: one optimizer step of the <see cref="ReferenceModel"/> through the real <see cref="RewardModel"/> and
/// <see cref="Trainer"/> (forward, BT loss, backward, clip, AdamW lr 1e-4 wd 0.01, fp32) on 8 pairs (16 sequences) of
/// T=256 random tokens, fresh every repetition (2 pairs of T=32 under a quick run). Against the GEMM ceiling in model
/// FLOPs (<see cref="ReferenceModel.ModelFlops"/>, forward + backward); the run's peak RSS is reported beside it.
/// </summary>
public sealed class TrainingStepWorkload : IWorkload
{
    public string Id => "W4";

    public string Title => "reward-model training step (4 layers, d 512, GQA 8/2)";

    public IReadOnlyList<WorkloadResult> Run(WorldPMContext context, BenchSettings settings, SeedSequence seeds)
    {
        int pairs = settings.Pick(8, 2), tokens = settings.Pick(256, 32);
        using var model = new RewardModel(context, ReferenceModel.Config, seeds.NextInt());
        var options = new TrainingOptions
        {
            PairsPerMicroBatch = pairs,
            LearningRate = 1e-4,
            WeightDecay = 0.01,
            WarmupFraction = 0,  // every timed step at the full learning rate; warmup changes no work
        };
        using var trainer = new Trainer(context, model, options, totalSteps: settings.Repetitions + 1);
        PairBatch[] batch = [];
        Timing timing = Timing.Measure(context, settings.Repetitions,
            () => batch = [RandomPairs(pairs, tokens, seeds.NextInt())],
            () => trainer.TrainStep(batch));
        return
        [
            new(Id, "step_ms", $"{2 * pairs} sequences x T={tokens}, fp32, AdamW", timing,
                ReferenceModel.ModelFlops(model, 2 * pairs, tokens, passes: 3), CeilingKind.Gemm,
                "FLOPs 6*non-embedding params*tokens + 3*layers*4*B*H*T^2*D/2", 0.75),
        ];
    }

    private static PairBatch RandomPairs(int pairs, int tokens, int seed)
    {
        (int[] ids, _) = ReferenceModel.RandomBatch(2 * pairs, tokens, seed);
        return new PairBatch(Enumerable.Range(0, pairs)
            .Select(i => new TokenizedPair(ids[(i * tokens)..((i + 1) * tokens)], ids[((pairs + i) * tokens)..((pairs + i + 1) * tokens)]))
            .ToList());
    }
}
