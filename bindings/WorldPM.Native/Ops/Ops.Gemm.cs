using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

/// <summary>
/// The shape of a (batched) matrix product C[b] = alpha op(A[b]) op(B[b]) + beta C[b], where op(A) is M x K
/// and op(B) is K x N, row-major.
/// </summary>
/// <param name="M">Rows of op(A) and C.</param>
/// <param name="N">Columns of op(B) and C.</param>
/// <param name="K">The contracted dimension.</param>
public readonly record struct GemmLayout(long M, long N, long K)
{
    /// <summary>Use A transposed (A is stored K x M).</summary>
    public bool TransposeA { get; init; }

    /// <summary>Use B transposed (B is stored N x K).</summary>
    public bool TransposeB { get; init; }

    /// <summary>Independent products in the batch.</summary>
    public long Batch { get; init; } = 1;

    /// <summary>Row strides in elements; 0 means tightly packed.</summary>
    public long Lda { get; init; }

    /// <inheritdoc cref="Lda"/>
    public long Ldb { get; init; }

    /// <inheritdoc cref="Lda"/>
    public long Ldc { get; init; }

    /// <summary>Batch strides in elements; 0 with a batch of 1.</summary>
    public long StrideA { get; init; }

    /// <inheritdoc cref="StrideA"/>
    public long StrideB { get; init; }

    /// <inheritdoc cref="StrideA"/>
    public long StrideC { get; init; }

    /// <summary>Compute every element of C by one fixed sequence of operations (K fused multiply-adds in order from
    /// zero, then alpha and beta), so that a row of C does not depend on M, the other rows or where it sits: what makes
    /// a sequence's activations the same bits alone and in any batch. The cpu and emu backends run their own kernel for
    /// it instead of their BLAS; the cuda backend refuses it (<see cref="WorldPMStatus.Unsupported"/>).</summary>
    public bool RowInvariant { get; init; }
}

public static unsafe partial class Ops
{
    /// <summary>C = alpha op(A) op(B) + beta C for M x K by K x N (fp32 accumulation; f32, f16 or bf16).
    /// The backward of C = A B is dA = dC B^T and dB = A^T dC: two more calls.</summary>
    public static void Gemm<T>(WorldPMContext context, DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c,
        long m, long n, long k, bool transposeA = false, bool transposeB = false, float alpha = 1f, float beta = 0f)
        where T : unmanaged =>
        Gemm(context, a, b, c, new GemmLayout(m, n, k) { TransposeA = transposeA, TransposeB = transposeB }, alpha, beta);

    /// <summary>The batched, strided form of <see cref="Gemm{T}(WorldPMContext, DeviceBuffer{T}, DeviceBuffer{T}, DeviceBuffer{T}, long, long, long, bool, bool, float, float)"/>.</summary>
    public static void Gemm<T>(WorldPMContext context, DeviceBuffer<T> a, DeviceBuffer<T> b, DeviceBuffer<T> c,
        GemmLayout layout, float alpha = 1f, float beta = 0f) where T : unmanaged
    {
        using var lease = new HandleLease([context, a, b, c]);
        var p = new NativeMethods.wpm_gemm_params
        {
            struct_size = (nuint)sizeof(NativeMethods.wpm_gemm_params),
            trans_a = layout.TransposeA ? 1 : 0,
            trans_b = layout.TransposeB ? 1 : 0,
            m = layout.M,
            n = layout.N,
            k = layout.K,
            batch = layout.Batch,
            alpha = alpha,
            beta = beta,
            a = Ptr(a),
            b = Ptr(b),
            c = Ptr(c),
            lda = layout.Lda,
            ldb = layout.Ldb,
            ldc = layout.Ldc,
            stride_a = layout.StrideA,
            stride_b = layout.StrideB,
            stride_c = layout.StrideC,
            row_invariant = layout.RowInvariant ? 1 : 0,
        };
        Check(NativeMethods.wpm_gemm(Ptr(context), &p));
    }
}
