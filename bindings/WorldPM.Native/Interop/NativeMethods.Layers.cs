using System.Runtime.InteropServices;

namespace WorldPM.Native.Interop;

/// <summary>The transformer's ops: GEMM, embedding, rows by index, RMSNorm, RoPE, attention, SwiGLU, GELU.</summary>
internal static unsafe partial class NativeMethods
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_gemm_params
    {
        public nuint struct_size;
        public int trans_a, trans_b;
        public long m, n, k;
        public long batch;
        public float alpha, beta;
        public nint a;
        public nint b;
        public nint c;
        public long lda, ldb, ldc;
        public long stride_a, stride_b, stride_c;
        public int row_invariant;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_attention_params
    {
        public nuint struct_size;
        public long b, t, h, kvh, d;
        public float scale;
        public Padding padding;
        public nint lengths;
        public nint q;
        public nint k;
        public nint v;
        public nint @out;
        public nint lse;
        public nint dout;
        public nint dq;
        public nint dk;
        public nint dv;
        public nint cu_seqlens;
        public long max_seqlen;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_rmsnorm_params
    {
        public nuint struct_size;
        public long n, c;
        public float eps;
        public nint x;
        public nint weight;
        public nint @out;
        public nint rstd;
        public nint dout;
        public nint dx;
        public nint dweight;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_rope_params
    {
        public nuint struct_size;
        public long b, t, h, d;
        public float theta;
        public nint positions;
        public nint x;
        public nint dx;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_rows_params
    {
        public nuint struct_size;
        public long n, r, c;
        public nint index;
        public nint src;
        public nint dst;
    }

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_gemm(nint context, wpm_gemm_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_embedding_fwd(nint context, nint ids, nint table, nint @out, long n,
        long vocab, long c);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_embedding_bwd(nint context, nint ids, nint dout, nint dtable, long n,
        long vocab, long c);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_rows_gather(nint context, wpm_rows_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_rows_scatter_add(nint context, wpm_rows_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_rmsnorm_fwd(nint context, wpm_rmsnorm_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_rmsnorm_bwd(nint context, wpm_rmsnorm_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_rope_fwd(nint context, wpm_rope_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_rope_bwd(nint context, wpm_rope_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_attention_fwd(nint context, wpm_attention_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_attention_bwd(nint context, wpm_attention_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_swiglu_fwd(nint context, nint gate, nint up, nint @out, long n);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_swiglu_bwd(nint context, nint dout, nint gate, nint up, nint dgate,
        nint dup, long n);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_relu_fwd(nint context, nint x, nint @out, long n);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_relu_bwd(nint context, nint dout, nint x, nint dx, long n);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_gelu_fwd(nint context, nint x, nint @out, long n, GeluKind kind);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_gelu_bwd(nint context, nint dout, nint x, nint dx, long n,
        GeluKind kind);
}
