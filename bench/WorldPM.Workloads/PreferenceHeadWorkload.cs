using WorldPM.Native;

namespace WorldPM.Workloads;

/// <summary>
/// W3: last-token pooling, the preference head Linear(1024, 256) → GELU tanh → Linear(256, 1) and the Bradley-Terry
/// loss, forward and backward, on hidden states 128×256×1024 fp32 (rows 0–63 chosen, 64–127 rejected, pair i = rows
/// i and 64+i; lengths uniform in [1, 256]; T=32 under a quick run). Memory-bound by the pooling backward, which
/// writes the dense hidden-state gradient: bytes = the 128 scoring rows read + 128×T×1024 fp32 written once.
/// The head's weight gradients accumulate across repetitions, as they would across micro-batches.
/// <para>
/// A second metric, <c>fwd_bwd_rows_ms</c>, times the design the trainer uses (<see cref="Model.RewardModel"/>: the
/// last layer's backward takes the scoring rows' gradients, <c>dpooled</c>, with the lengths): the pooling backward
/// hands on only those rows, exactly, and writes nothing dense. Its rate counts the same bytes as the dense design,
/// as the benchmark issue says (a design that moves less wins outright).
/// </para>
/// </summary>
public sealed class PreferenceHeadWorkload : IWorkload
{
    public string Id => "W3";

    public string Title => "last-token pooling + preference head + BT loss, forward+backward";

    /// <summary>Sequences (hidden-state rows): the first half chosen, the second rejected.</summary>
    public const int Rows = 128;

    /// <summary>Channels of the hidden states, the head's input width.</summary>
    public const int Channels = 1024;

    /// <summary>The head's hidden width.</summary>
    public const int HeadHidden = 256;

    /// <summary>Tokens per sequence: 256, or 32 under a quick run.</summary>
    public static int Tokens(bool quick) => quick ? 32 : 256;

    public IReadOnlyList<WorkloadResult> Run(WorldPMContext context, BenchSettings settings, SeedSequence seeds)
    {
        const int rows = Rows, pairs = rows / 2, channels = Channels, hidden = HeadHidden;
        int tokens = Tokens(settings.Quick);
        using DeviceBuffer<float> states = context.Allocate<float>(rows, tokens, channels),
            dstates = context.Allocate<float>(rows, tokens, channels), pooled = context.Allocate<float>(rows, channels),
            dpooled = context.Allocate<float>(rows, channels), w1 = context.Allocate<float>(channels, hidden),
            dw1 = context.Allocate<float>(channels, hidden), a1 = context.Allocate<float>(rows, hidden),
            g1 = context.Allocate<float>(rows, hidden), da1 = context.Allocate<float>(rows, hidden),
            dg1 = context.Allocate<float>(rows, hidden), w2 = context.Allocate<float>(hidden, 1),
            dw2 = context.Allocate<float>(hidden, 1), rewards = context.Allocate<float>(rows),
            drewards = context.Allocate<float>(rows), loss = context.Allocate<float>(1);
        using DeviceBuffer<int> lengths = context.Allocate<int>(rows);
        using DeviceBuffer<float> chosen = rewards.View(0, pairs), rejected = rewards.View(pairs, pairs),
            dchosen = drewards.View(0, pairs), drejected = drewards.View(pairs, pairs);
        dw1.Fill(0);
        dw2.Fill(0);
        var hostLengths = new int[rows];
        void Fresh()
        {
            states.FillNormal(seeds.Next());
            w1.FillNormal(seeds.Next(), 0f, 0.03f);
            w2.FillNormal(seeds.Next(), 0f, 0.06f);
            var random = new Random(seeds.NextInt());
            for (int i = 0; i < rows; ++i) hostLengths[i] = random.Next(1, tokens + 1);
            lengths.CopyFrom(hostLengths);
        }
        void ForwardBackward() => HeadForwardBackward(denseGradient: true);
        void ForwardBackwardRows() => HeadForwardBackward(denseGradient: false);
        void HeadForwardBackward(bool denseGradient)
        {
            Ops.LastTokenPoolForward(context, states, lengths, pooled, rows, tokens, channels);
            Ops.Gemm(context, pooled, w1, a1, rows, hidden, channels);
            Ops.GeluForward(context, a1, g1);
            Ops.Gemm(context, g1, w2, rewards, rows, 1, hidden);
            Ops.BradleyTerryLossForward(context, chosen, rejected, loss);
            Ops.BradleyTerryLossBackward(context, chosen, rejected, dchosen, drejected);
            Ops.Gemm(context, g1, drewards, dw2, hidden, 1, rows, transposeA: true, beta: 1f);     // dW2 += g1ᵀ dr
            Ops.Gemm(context, drewards, w2, dg1, rows, hidden, 1, transposeB: true);              // dg1 = dr W2ᵀ
            Ops.GeluBackward(context, dg1, a1, da1);
            Ops.Gemm(context, pooled, da1, dw1, channels, hidden, rows, transposeA: true, beta: 1f); // dW1 += pooledᵀ da1
            Ops.Gemm(context, da1, w1, dpooled, rows, channels, hidden, transposeB: true);          // dpooled = da1 W1ᵀ
            if (denseGradient) Ops.LastTokenPoolBackward(context, dpooled, lengths, dstates, rows, tokens, channels);
        }
        Timing timing = Timing.Measure(context, settings, Fresh, ForwardBackward);
        Timing rowsTiming = Timing.Measure(context, settings, Fresh, ForwardBackwardRows);
        double bytes = ((double)rows * channels + (double)rows * tokens * channels) * sizeof(float);
        return
        [
            new(Id, "fwd_bwd_ms", $"hidden {rows}x{tokens}x{channels} fp32, head {channels}->{hidden}->1", timing, bytes,
                CeilingKind.Copy, "bytes (rows*C read + rows*T*C written) * 4", 0.60),
            new(Id, "fwd_bwd_rows_ms", $"as fwd_bwd, the gradient handed on as the {rows} scoring rows (the trainer's design)",
                rowsTiming, bytes, CeilingKind.Copy, "bytes of the dense design: (rows*C read + rows*T*C written) * 4", 0.60),
        ];
    }
}
