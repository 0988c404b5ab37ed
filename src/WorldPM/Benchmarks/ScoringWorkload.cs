using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>
/// W5: scoring with the <see cref="ReferenceModel"/>: <see cref="RewardModel.Score"/> on 64 sequences of 256 random
/// tokens, forward only (8 × 32 under a quick run). Against the GEMM ceiling in model FLOPs, forward only.
/// </summary>
public sealed class ScoringWorkload : IWorkload
{
    public string Id => "W5";

    public string Title => "reward-model scoring, forward only";

    public IReadOnlyList<WorkloadResult> Run(WorldPMContext context, BenchSettings settings, SeedSequence seeds)
    {
        int sequences = settings.Pick(64, 8), tokens = settings.Pick(256, 32);
        using var model = new RewardModel(context, ReferenceModel.Config, seeds.NextInt());
        (int[] Tokens, int[] Lengths) batch = default;
        Timing timing = Timing.Measure(context, settings.Repetitions,
            () => batch = ReferenceModel.RandomBatch(sequences, tokens, seeds.NextInt()),
            () => model.Score(batch.Tokens, batch.Lengths, sequences, tokens));
        return
        [
            new(Id, "score_ms", $"{sequences} sequences x T={tokens}, fp32", timing,
                ReferenceModel.ModelFlops(model, sequences, tokens, passes: 1), CeilingKind.Gemm,
                "FLOPs 2*non-embedding params*tokens + layers*4*B*H*T^2*D/2", 0.80),
        ];
    }
}
