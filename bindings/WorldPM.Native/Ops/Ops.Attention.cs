using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

/// <summary>The dimensions of an attention call: q and out are [B, T, H, D], k and v are [B, T, KVH, D].</summary>
/// <param name="Batch">B, sequences.</param>
/// <param name="Tokens">T, positions per sequence.</param>
/// <param name="Heads">H, query heads.</param>
/// <param name="KeyValueHeads">KVH, key/value heads (H a multiple of it: grouped-query attention).</param>
/// <param name="HeadDim">D, 64 or 128 on the GPU; any D >= 1 on the CPU.</param>
public readonly record struct AttentionShape(long Batch, long Tokens, long Heads, long KeyValueHeads, long HeadDim);

public static unsafe partial class Ops
{
    /// <summary>
    /// Fused causal attention with grouped-query heads and per-sequence lengths. lse [B, H, T] receives each
    /// query row's logsumexp (saved for the backward). lengths [B] or null (all T); padding positions are never
    /// read and their outputs are 0. scale 0 means 1/sqrt(D).
    /// </summary>
    public static void AttentionForward<T>(WorldPMContext context, DeviceBuffer<T> q, DeviceBuffer<T> k,
        DeviceBuffer<T> v, DeviceBuffer<T> output, DeviceBuffer<float> lse, AttentionShape shape,
        DeviceBuffer<int>? lengths = null, Padding padding = Padding.Right, float scale = 0f) where T : unmanaged
    {
        using var lease = new HandleLease([context, q, k, v, output, lse, lengths]);
        var p = Params(shape, lengths, padding, scale, q, k, v, output, lse);
        Check(NativeMethods.wpm_attention_fwd(Ptr(context), &p));
    }

    /// <summary>Writes dq, dk, dv from dout and the forward's q, k, v, output and lse (recomputing the scores).</summary>
    public static void AttentionBackward<T>(WorldPMContext context, DeviceBuffer<T> q, DeviceBuffer<T> k,
        DeviceBuffer<T> v, DeviceBuffer<T> output, DeviceBuffer<float> lse, DeviceBuffer<T> dout, DeviceBuffer<T> dq,
        DeviceBuffer<T> dk, DeviceBuffer<T> dv, AttentionShape shape, DeviceBuffer<int>? lengths = null,
        Padding padding = Padding.Right, float scale = 0f) where T : unmanaged
    {
        using var lease = new HandleLease([context, q, k, v, output, lse, dout, dq, dk, dv, lengths]);
        var p = Params(shape, lengths, padding, scale, q, k, v, output, lse);
        p.dout = Ptr(dout);
        p.dq = Ptr(dq);
        p.dk = Ptr(dk);
        p.dv = Ptr(dv);
        Check(NativeMethods.wpm_attention_bwd(Ptr(context), &p));
    }

    private static NativeMethods.wpm_attention_params Params(AttentionShape shape, DeviceBuffer<int>? lengths,
        Padding padding, float scale, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer output,
        DeviceBuffer lse) => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_attention_params),
        b = shape.Batch,
        t = shape.Tokens,
        h = shape.Heads,
        kvh = shape.KeyValueHeads,
        d = shape.HeadDim,
        scale = scale,
        padding = padding,
        lengths = Ptr(lengths),
        q = Ptr(q),
        k = Ptr(k),
        v = Ptr(v),
        @out = Ptr(output),
        lse = Ptr(lse),
    };
}
