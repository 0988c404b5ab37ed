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

/// <summary>
/// Where the sequences of a packed batch lie in its token stream (FlashAttention's varlen convention).
/// </summary>
/// <param name="Offsets">cu_seqlens, [B + 1]: 0 first, non-decreasing, the token count last; sequence i is tokens
/// Offsets[i] .. Offsets[i + 1] - 1 (it may be empty).</param>
/// <param name="MaxLength">At least the longest sequence, at most the token count.</param>
public readonly record struct PackedSequences(DeviceBuffer<int> Offsets, long MaxLength);

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
        Backward(context, ref p, dout, dq, dk, dv);
    }

    /// <summary>
    /// Causal attention over a packed batch: shape.Batch sequences laid end to end in one stream of shape.Tokens
    /// tokens, each attending only to itself (q and out [T, H, D], k and v [T, KVH, D], lse [H, T]). RoPE
    /// restarts per sequence through its positions.
    /// </summary>
    public static void AttentionForward<T>(WorldPMContext context, DeviceBuffer<T> q, DeviceBuffer<T> k,
        DeviceBuffer<T> v, DeviceBuffer<T> output, DeviceBuffer<float> lse, AttentionShape shape,
        PackedSequences packing, float scale = 0f) where T : unmanaged
    {
        using var lease = new HandleLease([context, q, k, v, output, lse, packing.Offsets]);
        var p = Params(shape, packing, scale, q, k, v, output, lse);
        Check(NativeMethods.wpm_attention_fwd(Ptr(context), &p));
    }

    /// <summary>The backward of the packed forward: dq [T, H, D], dk and dv [T, KVH, D].</summary>
    public static void AttentionBackward<T>(WorldPMContext context, DeviceBuffer<T> q, DeviceBuffer<T> k,
        DeviceBuffer<T> v, DeviceBuffer<T> output, DeviceBuffer<float> lse, DeviceBuffer<T> dout, DeviceBuffer<T> dq,
        DeviceBuffer<T> dk, DeviceBuffer<T> dv, AttentionShape shape, PackedSequences packing, float scale = 0f)
        where T : unmanaged
    {
        using var lease = new HandleLease([context, q, k, v, output, lse, dout, dq, dk, dv, packing.Offsets]);
        var p = Params(shape, packing, scale, q, k, v, output, lse);
        Backward(context, ref p, dout, dq, dk, dv);
    }

    private static void Backward(WorldPMContext context, ref NativeMethods.wpm_attention_params p, DeviceBuffer dout,
        DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv)
    {
        p.dout = Ptr(dout);
        p.dq = Ptr(dq);
        p.dk = Ptr(dk);
        p.dv = Ptr(dv);
        fixed (NativeMethods.wpm_attention_params* pp = &p) Check(NativeMethods.wpm_attention_bwd(Ptr(context), pp));
    }

    private static NativeMethods.wpm_attention_params Params(AttentionShape shape, PackedSequences packing,
        float scale, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer output, DeviceBuffer lse)
    {
        var p = Params(shape, null, Padding.Right, scale, q, k, v, output, lse);
        p.cu_seqlens = Ptr(packing.Offsets);
        p.max_seqlen = packing.MaxLength;
        return p;
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
