using WorldPM.Native;

namespace WorldPM.Workloads;

/// <summary>
/// W2: fused causal attention forward, then backward, B=4 H=8 (KVH=8) T=512 D=64 fp32 (T=64 under a quick run).
/// FLOPs, FlashAttention's convention: 4·B·H·T²·D/2 forward (QKᵀ and PV, half the scores under the causal mask),
/// 2.5× that backward (whatever the backward recomputes is not counted), against the GEMM ceiling.
/// </summary>
public sealed class AttentionWorkload : IWorkload
{
    public string Id => "W2";

    public string Title => "causal attention forward, backward";

    /// <summary>B=4 T=512 H=8 KVH=8 D=64, or T=64 under a quick run.</summary>
    public static AttentionShape Shape(bool quick) => new(4, quick ? 64 : 512, 8, 8, 64);

    public IReadOnlyList<WorkloadResult> Run(WorldPMContext context, BenchSettings settings, SeedSequence seeds)
    {
        AttentionShape shape = Shape(settings.Quick);
        long[] dims = [shape.Batch, shape.Tokens, shape.Heads, shape.HeadDim];
        using DeviceBuffer<float> q = context.Allocate<float>(dims), k = context.Allocate<float>(dims),
            v = context.Allocate<float>(dims), output = context.Allocate<float>(dims), dout = context.Allocate<float>(dims),
            dq = context.Allocate<float>(dims), dk = context.Allocate<float>(dims), dv = context.Allocate<float>(dims),
            lse = context.Allocate<float>(shape.Batch, shape.Heads, shape.Tokens);
        void Fresh()
        {
            foreach (DeviceBuffer<float> input in new[] { q, k, v, dout }) input.FillNormal(seeds.Next());
        }
        void Forward() => Ops.AttentionForward(context, q, k, v, output, lse, shape);

        Timing forward = Timing.Measure(context, settings, Fresh, Forward);
        Timing backward = Timing.Measure(context, settings, () => { Fresh(); Forward(); },
            () => Ops.AttentionBackward(context, q, k, v, output, lse, dout, dq, dk, dv, shape));
        double flops = CausalForwardFlops(shape.Batch, shape.Heads, shape.Tokens, shape.HeadDim);
        string text = $"B={shape.Batch} H={shape.Heads} T={shape.Tokens} D={shape.HeadDim} causal fp32";
        return
        [
            new(Id, "fwd_ms", text, forward, flops, CeilingKind.Gemm, "FLOPs 4*B*H*T^2*D/2", 0.50),
            new(Id, "bwd_ms", text, backward, 2.5 * flops, CeilingKind.Gemm, "FLOPs 2.5 * 4*B*H*T^2*D/2", 0.40),
        ];
    }

    /// <summary>4·B·H·T²·D/2: the two products QKᵀ and PV at 2 FLOPs per multiply-add, half of them under the mask.</summary>
    public static double CausalForwardFlops(long batch, long heads, long tokens, long headDim) =>
        4.0 * batch * heads * tokens * tokens * headDim / 2;
}
