using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

public static unsafe partial class Ops
{
    /// <summary>output[n, :] = table[ids[n], :]; ids [N], table [V, C], output [N, C].</summary>
    public static void EmbeddingForward<T>(WorldPMContext context, DeviceBuffer<int> ids, DeviceBuffer<T> table,
        DeviceBuffer<T> output, long tokens, long vocab, long channels) where T : unmanaged
    {
        using var lease = new HandleLease([context, ids, table, output]);
        Check(NativeMethods.wpm_embedding_fwd(Ptr(context), Ptr(ids), Ptr(table), Ptr(output), tokens, vocab, channels));
    }

    /// <summary>dtable[ids[n], :] += dout[n, :], in token order (deterministic).</summary>
    public static void EmbeddingBackward<T>(WorldPMContext context, DeviceBuffer<int> ids, DeviceBuffer<T> dout,
        DeviceBuffer<T> dtable, long tokens, long vocab, long channels) where T : unmanaged
    {
        using var lease = new HandleLease([context, ids, dout, dtable]);
        Check(NativeMethods.wpm_embedding_bwd(Ptr(context), Ptr(ids), Ptr(dout), Ptr(dtable), tokens, vocab, channels));
    }

    /// <summary>output = x * rstd * weight with rstd = 1 / sqrt(mean(x^2) + eps) per row; x, output [N, C],
    /// weight [C]; rstd [N] is saved for the backward.</summary>
    public static void RmsNormForward<T>(WorldPMContext context, DeviceBuffer<T> x, DeviceBuffer<T> weight,
        DeviceBuffer<T> output, DeviceBuffer<float> rstd, long rows, long channels, float eps = 1e-6f)
        where T : unmanaged
    {
        using var lease = new HandleLease([context, x, weight, output, rstd]);
        var p = RmsNormParams(x, weight, rstd, rows, channels);
        p.eps = eps;
        p.@out = Ptr(output);
        Check(NativeMethods.wpm_rmsnorm_fwd(Ptr(context), &p));
    }

    /// <summary>Writes dx and accumulates into dweight, from the forward's x and rstd.</summary>
    public static void RmsNormBackward<T>(WorldPMContext context, DeviceBuffer<T> dout, DeviceBuffer<T> x,
        DeviceBuffer<T> weight, DeviceBuffer<float> rstd, DeviceBuffer<T> dx, DeviceBuffer<T> dweight, long rows,
        long channels) where T : unmanaged
    {
        using var lease = new HandleLease([context, dout, x, weight, rstd, dx, dweight]);
        var p = RmsNormParams(x, weight, rstd, rows, channels);
        p.dout = Ptr(dout);
        p.dx = Ptr(dx);
        p.dweight = Ptr(dweight);
        Check(NativeMethods.wpm_rmsnorm_bwd(Ptr(context), &p));
    }

    /// <summary>The fields the RMSNorm forward and backward share.</summary>
    private static NativeMethods.wpm_rmsnorm_params RmsNormParams(DeviceBuffer x, DeviceBuffer weight,
        DeviceBuffer<float> rstd, long rows, long channels) => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_rmsnorm_params),
        n = rows,
        c = channels,
        x = Ptr(x),
        weight = Ptr(weight),
        rstd = Ptr(rstd),
    };

    /// <summary>Rotary embedding in place on x [B, T, H, D] (Qwen2's rotate-half layout), angle =
    /// pos * theta^(-2i/D); positions [B, T], or null for pos = t.</summary>
    public static void RopeForward<T>(WorldPMContext context, DeviceBuffer<T> x, DeviceBuffer<int>? positions,
        long batch, long tokens, long heads, long headDim, float theta = 1e6f) where T : unmanaged
    {
        using var lease = new HandleLease([context, x, positions]);
        var p = RopeParams(positions, batch, tokens, heads, headDim, theta);
        p.x = Ptr(x);
        Check(NativeMethods.wpm_rope_fwd(Ptr(context), &p));
    }

    /// <summary>The inverse rotation, in place on the gradient dx [B, T, H, D].</summary>
    public static void RopeBackward<T>(WorldPMContext context, DeviceBuffer<T> dx, DeviceBuffer<int>? positions,
        long batch, long tokens, long heads, long headDim, float theta = 1e6f) where T : unmanaged
    {
        using var lease = new HandleLease([context, dx, positions]);
        var p = RopeParams(positions, batch, tokens, heads, headDim, theta);
        p.dx = Ptr(dx);
        Check(NativeMethods.wpm_rope_bwd(Ptr(context), &p));
    }

    /// <summary>The fields the RoPE forward and backward share.</summary>
    private static NativeMethods.wpm_rope_params RopeParams(DeviceBuffer<int>? positions, long batch, long tokens,
        long heads, long headDim, float theta) => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_rope_params),
        b = batch,
        t = tokens,
        h = heads,
        d = headDim,
        theta = theta,
        positions = Ptr(positions),
    };

    /// <summary>output = silu(gate) * up, elementwise.</summary>
    public static void SwiGluForward<T>(WorldPMContext context, DeviceBuffer<T> gate, DeviceBuffer<T> up,
        DeviceBuffer<T> output, long? count = null) where T : unmanaged
    {
        using var lease = new HandleLease([context, gate, up, output]);
        Check(NativeMethods.wpm_swiglu_fwd(Ptr(context), Ptr(gate), Ptr(up), Ptr(output), count ?? gate?.Count ?? 0));
    }

    /// <summary>Writes dgate and dup from dout and the forward's inputs.</summary>
    public static void SwiGluBackward<T>(WorldPMContext context, DeviceBuffer<T> dout, DeviceBuffer<T> gate,
        DeviceBuffer<T> up, DeviceBuffer<T> dgate, DeviceBuffer<T> dup, long? count = null) where T : unmanaged
    {
        using var lease = new HandleLease([context, dout, gate, up, dgate, dup]);
        Check(NativeMethods.wpm_swiglu_bwd(Ptr(context), Ptr(dout), Ptr(gate), Ptr(up), Ptr(dgate), Ptr(dup),
            count ?? dout?.Count ?? 0));
    }

    /// <summary>output = GELU(x), elementwise, in the tanh or the exact (erf) form.</summary>
    public static void GeluForward<T>(WorldPMContext context, DeviceBuffer<T> x, DeviceBuffer<T> output,
        GeluKind kind = GeluKind.Tanh, long? count = null) where T : unmanaged
    {
        using var lease = new HandleLease([context, x, output]);
        Check(NativeMethods.wpm_gelu_fwd(Ptr(context), Ptr(x), Ptr(output), count ?? x?.Count ?? 0, kind));
    }

    /// <summary>dx = dout * GELU'(x).</summary>
    public static void GeluBackward<T>(WorldPMContext context, DeviceBuffer<T> dout, DeviceBuffer<T> x,
        DeviceBuffer<T> dx, GeluKind kind = GeluKind.Tanh, long? count = null) where T : unmanaged
    {
        using var lease = new HandleLease([context, dout, x, dx]);
        Check(NativeMethods.wpm_gelu_bwd(Ptr(context), Ptr(dout), Ptr(x), Ptr(dx), count ?? dout?.Count ?? 0, kind));
    }

    /// <summary>output = max(x, 0), elementwise.</summary>
    public static void ReluForward<T>(WorldPMContext context, DeviceBuffer<T> x, DeviceBuffer<T> output,
        long? count = null) where T : unmanaged
    {
        using var lease = new HandleLease([context, x, output]);
        Check(NativeMethods.wpm_relu_fwd(Ptr(context), Ptr(x), Ptr(output), count ?? x?.Count ?? 0));
    }

    /// <summary>dx = dout where x &gt; 0, else 0.</summary>
    public static void ReluBackward<T>(WorldPMContext context, DeviceBuffer<T> dout, DeviceBuffer<T> x,
        DeviceBuffer<T> dx, long? count = null) where T : unmanaged
    {
        using var lease = new HandleLease([context, dout, x, dx]);
        Check(NativeMethods.wpm_relu_bwd(Ptr(context), Ptr(dout), Ptr(x), Ptr(dx), count ?? dout?.Count ?? 0));
    }
}
