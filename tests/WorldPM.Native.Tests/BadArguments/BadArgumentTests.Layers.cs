using WorldPM.Native.Interop;
using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native.Tests.BadArguments;

public sealed unsafe partial class BadArgumentTests
{
    private static BadCall[] LayerCases() =>
    [
        // GEMM: 2x3 @ 3x4 unless the case says otherwise.
        Invalid("gemm: NULL params", "params", a => Check(NativeMethods.wpm_gemm(a.Ctx, null))),
        Invalid("gemm: struct_size of an older, smaller struct", "params", a =>
        {
            var p = RawGemm(a.F32(6), a.F32(12), a.F32(8), 2, 4, 3);
            p.struct_size = 8;
            Check(NativeMethods.wpm_gemm(a.Ctx, &p));
        }),
        Invalid("gemm: trans_a 2", "trans_a", a =>
        {
            var p = RawGemm(a.F32(6), a.F32(12), a.F32(8), 2, 4, 3);
            p.trans_a = 2;
            Check(NativeMethods.wpm_gemm(a.Ctx, &p));
        }),
        Invalid("gemm: m 0", "m", a => Ops.Gemm(a.Context, a.F32(6), a.F32(12), a.F32(8), 0, 4, 3)),
        Invalid("gemm: negative k", "k", a => Ops.Gemm(a.Context, a.F32(6), a.F32(12), a.F32(8), 2, 4, -3)),
        Invalid("gemm: a too small", "a", a => Ops.Gemm(a.Context, a.F32(5), a.F32(12), a.F32(8), 2, 4, 3)),
        Invalid("gemm: lda shorter than a row", "lda", a =>
            Ops.Gemm(a.Context, a.F32(6), a.F32(12), a.F32(8), new GemmLayout(2, 4, 3) { Lda = 2 })),
        Invalid("gemm: NaN alpha", "alpha", a => Ops.Gemm(a.Context, a.F32(6), a.F32(12), a.F32(8), 2, 4, 3, alpha: float.NaN)),
        Invalid("gemm: overlapping batch items of c", "stride_c", a =>
            Ops.Gemm(a.Context, a.F32(12), a.F32(24), a.F32(16),
                new GemmLayout(2, 4, 3) { Batch = 2, StrideA = 6, StrideB = 12, StrideC = 4 })),
        Invalid("gemm: dimensions whose span overflows", "lda", a =>
            Ops.Gemm(a.Context, a.F32(6), a.F32(12), a.F32(8), 1L << 40, 4, 1L << 40)),
        WrongDType("gemm: c f16 with a f32", "c", a =>
        {
            var p = RawGemm(a.F32(6), a.F32(12), a.F16(8), 2, 4, 3);
            Check(NativeMethods.wpm_gemm(a.Ctx, &p));
        }),
        WrongDType("gemm: i32 operands", "a", a => Ops.Gemm(a.Context, a.I32(6), a.I32(12), a.I32(8), 2, 4, 3)),
        WrongContext("gemm: b of another context", "b", a => Ops.Gemm(a.Context, a.F32(6), a.Foreign(12), a.F32(8), 2, 4, 3)),

        // Embedding: 3 tokens, vocabulary 5, 4 channels.
        WrongDType("embedding_fwd: f32 ids", "ids", a =>
            Check(NativeMethods.wpm_embedding_fwd(a.Ctx, Arena.P(a.F32(3)), Arena.P(a.F32(20)), Arena.P(a.F32(12)), 3, 5, 4))),
        Invalid("embedding_fwd: table too small", "table", a =>
            Ops.EmbeddingForward(a.Context, a.I32(3), a.F32(19), a.F32(12), 3, 5, 4)),
        Invalid("embedding_fwd: negative n", "n", a =>
            Ops.EmbeddingForward(a.Context, a.I32(3), a.F32(20), a.F32(12), -3, 5, 4)),
        Invalid("embedding_bwd: vocab * c overflows", "vocab * c", a =>
            Ops.EmbeddingBackward(a.Context, a.I32(3), a.F32(12), a.F32(20), 3, 1L << 40, 1L << 40)),

        // RMSNorm: 2 rows of 4 channels.
        Invalid("rmsnorm_fwd: c 0", "c", a => Ops.RmsNormForward(a.Context, a.F32(8), a.F32(4), a.F32(8), a.F32(2), 2, 0)),
        Invalid("rmsnorm_fwd: negative eps", "eps", a =>
            Ops.RmsNormForward(a.Context, a.F32(8), a.F32(4), a.F32(8), a.F32(2), 2, 4, eps: -1e-6f)),
        Invalid("rmsnorm_fwd: rstd too small", "rstd", a =>
            Ops.RmsNormForward(a.Context, a.F32(8), a.F32(4), a.F32(8), a.F32(1), 2, 4)),
        WrongDType("rmsnorm_fwd: f16 rstd", "rstd", a =>
        {
            var p = RawRmsNorm(a.F32(8), a.F32(4), a.F32(8), a.F16(2), 2, 4);
            Check(NativeMethods.wpm_rmsnorm_fwd(a.Ctx, &p));
        }),
        Invalid("rmsnorm_fwd: NULL params", "params", a => Check(NativeMethods.wpm_rmsnorm_fwd(a.Ctx, null))),
        Invalid("rmsnorm_bwd: struct_size of an older, smaller struct", "params", a =>
        {
            var p = RawRmsNorm(a.F32(8), a.F32(4), a.F32(8), a.F32(2), 2, 4);
            p.struct_size = 8;
            Check(NativeMethods.wpm_rmsnorm_bwd(a.Ctx, &p));
        }),
        Invalid("rmsnorm_bwd: dweight too small", "dweight", a =>
            Ops.RmsNormBackward(a.Context, a.F32(8), a.F32(8), a.F32(4), a.F32(2), a.F32(8), a.F32(3), 2, 4)),

        // RoPE: [1, 2, 2, 4].
        Invalid("rope_fwd: odd head dim", "d", a => Ops.RopeForward(a.Context, a.F32(12), null, 1, 2, 2, 3)),
        Invalid("rope_fwd: theta 0", "theta", a => Ops.RopeForward(a.Context, a.F32(16), null, 1, 2, 2, 4, theta: 0)),
        Invalid("rope_fwd: positions too small", "positions", a => Ops.RopeForward(a.Context, a.F32(16), a.I32(1), 1, 2, 2, 4)),
        Invalid("rope_bwd: dx too small", "dx", a => Ops.RopeBackward(a.Context, a.F32(15), null, 1, 2, 2, 4)),
        Invalid("rope_fwd: NULL params", "params", a => Check(NativeMethods.wpm_rope_fwd(a.Ctx, null))),
        Invalid("rope_bwd: struct_size 0", "params", a =>
        {
            var p = new NativeMethods.wpm_rope_params();
            Check(NativeMethods.wpm_rope_bwd(a.Ctx, &p));
        }),

        // SwiGLU and GELU: 8 elements.
        Invalid("swiglu_fwd: up too small", "up", a => Ops.SwiGluForward(a.Context, a.F32(8), a.F32(7), a.F32(8))),
        WrongDType("swiglu_fwd: f16 out for f32 gate", "out", a =>
            Check(NativeMethods.wpm_swiglu_fwd(a.Ctx, Arena.P(a.F32(8)), Arena.P(a.F32(8)), Arena.P(a.F16(8)), 8))),
        Invalid("swiglu_bwd: dgate and dup the same buffer", "dgate", a =>
        {
            var both = a.F32(8);
            Ops.SwiGluBackward(a.Context, a.F32(8), a.F32(8), a.F32(8), both, both);
        }),
        Invalid("gelu_fwd: NULL x", "x", a => Ops.GeluForward(a.Context, null!, a.F32(8))),
        Invalid("gelu_fwd: negative n", "n", a => Ops.GeluForward(a.Context, a.F32(8), a.F32(8), count: -1)),
        Invalid("gelu_fwd: out too small", "out", a => Ops.GeluForward(a.Context, a.F32(8), a.F32(7))),
        WrongDType("gelu_fwd: f16 out for f32 x", "out", a =>
            Check(NativeMethods.wpm_gelu_fwd(a.Ctx, Arena.P(a.F32(8)), Arena.P(a.F16(8)), 8, GeluKind.Tanh))),
        WrongDType("gelu_fwd: i32 x", "x", a => Ops.GeluForward(a.Context, a.I32(8), a.I32(8))),
        Invalid("gelu_fwd: kind 7", "kind", a => Ops.GeluForward(a.Context, a.F32(8), a.F32(8), (GeluKind)7)),
        WrongContext("gelu_fwd: out of another context", "out", a => Ops.GeluForward(a.Context, a.F32(8), a.Foreign(8))),
        Invalid("gelu_fwd: freed x", "x", a =>
        {
            nint output = Arena.P(a.F32(8));
            Check(NativeMethods.wpm_gelu_fwd(a.Ctx, a.FreedBuffer(), output, 8, GeluKind.Tanh));
        }),
        Invalid("gelu_fwd: destroyed context", "context", a =>
        {
            nint x = Arena.P(a.F32(8)), output = Arena.P(a.F32(8));
            Check(NativeMethods.wpm_gelu_fwd(a.DestroyedContext(), x, output, 8, GeluKind.Tanh));
        }),
        Invalid("gelu_bwd: dx too small", "dx", a => Ops.GeluBackward(a.Context, a.F32(8), a.F32(8), a.F32(4))),
    ];

    private static NativeMethods.wpm_rmsnorm_params RawRmsNorm(DeviceBuffer x, DeviceBuffer weight, DeviceBuffer output,
        DeviceBuffer rstd, long n, long c) => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_rmsnorm_params),
        n = n,
        c = c,
        eps = 1e-6f,
        x = Arena.P(x),
        weight = Arena.P(weight),
        @out = Arena.P(output),
        rstd = Arena.P(rstd),
    };

    private static NativeMethods.wpm_gemm_params RawGemm(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, long m, long n,
        long k) => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_gemm_params),
        m = m,
        n = n,
        k = k,
        batch = 1,
        alpha = 1,
        a = Arena.P(a),
        b = Arena.P(b),
        c = Arena.P(c),
    };
}
