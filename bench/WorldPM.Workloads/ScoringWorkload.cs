using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Workloads;

/// <summary>
/// W5: scoring with the <see cref="ReferenceModel"/>: <see cref="RewardModel.Score"/> on 64 sequences of 256 random
/// tokens, forward only (8 × 32 under a quick run). Against the GEMM ceiling in model FLOPs, forward only. fp32 runs
/// twice, alternating batch by batch: on the backend's BLAS and with <see cref="RewardModel.BatchInvariant"/> (what
/// <c>worldpm score</c> runs; its speedup over fp32 is the mode's cost). With <see cref="BenchSettings.Bf16"/> a bf16
/// copy of the model scores instead, alternating with fp32.
/// </summary>
public sealed class ScoringWorkload : IWorkload
{
    public string Id => "W5";

    public string Title => "reward-model scoring, forward only";

    public IReadOnlyList<WorkloadResult> Run(WorldPMContext context, BenchSettings settings, SeedSequence seeds)
    {
        int sequences = settings.Pick(64, 8), tokens = settings.Pick(256, 32);
        string shape = $"{sequences} sequences x T={tokens}";
        using var fp32 = new RewardModel(context, ReferenceModel.Config, seeds.NextInt());
        if (!settings.Bf16)
        {
            (int[] Tokens, int[] Lengths) batch = default, invariantBatch = default;
            Action plainSetup = () => batch = ReferenceModel.RandomBatch(sequences, tokens, seeds.NextInt());
            Action plainBody = () => Score(fp32, batch, batchInvariant: false);
            // The batch-invariant GEMM is a host path (cpu and emu, not cuda), and a profile counts one mode's kernels.
            if (context.Backend == Backend.Cuda || settings.CountKernels)
                return [Result("score_ms", $"{shape}, fp32", Timing.Measure(context, settings, plainSetup, plainBody), fp32, sequences, tokens)];
            // The BLAS path and the batch-invariant one (what worldpm score runs), batch by batch in turn.
            (Timing plain, Timing invariant) = Timing.MeasureAlternating(context, settings.Repetitions,
                (plainSetup, plainBody),
                (() => invariantBatch = ReferenceModel.RandomBatch(sequences, tokens, seeds.NextInt()),
                    () => Score(fp32, invariantBatch, batchInvariant: true)));
            return
            [
                Result("score_ms", $"{shape}, fp32", plain, fp32, sequences, tokens),
                Result("score_ms_batch_invariant", $"{shape}, fp32, batch-invariant", invariant, fp32, sequences, tokens)
                    with { Fp32 = plain },
            ];

            void Score(RewardModel model, (int[] Tokens, int[] Lengths) b, bool batchInvariant)
            {
                model.BatchInvariant = batchInvariant;
                model.Score(b.Tokens, b.Lengths, sequences, tokens);
            }
        }
        using var bf16 = new RewardModel(context, ReferenceModel.Config, seeds.NextInt(), Precision.BF16);
        (int[] Tokens, int[] Lengths) batch32 = default, batch16 = default;
        (Timing t32, Timing t16) = Timing.MeasureAlternating(context, settings.Repetitions,
            (() => batch32 = ReferenceModel.RandomBatch(sequences, tokens, seeds.NextInt()),
                () => fp32.Score(batch32.Tokens, batch32.Lengths, sequences, tokens)),
            (() => batch16 = ReferenceModel.RandomBatch(sequences, tokens, seeds.NextInt()),
                () => bf16.Score(batch16.Tokens, batch16.Lengths, sequences, tokens)));
        return
        [
            Result("score_ms", $"{shape}, fp32", t32, fp32, sequences, tokens),
            Result("score_ms_bf16", $"{shape}, bf16", t16, bf16, sequences, tokens) with { Fp32 = t32 },
        ];
    }

    private WorkloadResult Result(string metric, string shape, Timing timing, RewardModel model, int sequences, int tokens) =>
        new(Id, metric, shape, timing, ReferenceModel.ModelFlops(model, sequences, tokens, passes: 1), CeilingKind.Gemm,
            "FLOPs 2*non-embedding params*tokens + layers*4*B*H*T^2*D/2", 0.80);
}
