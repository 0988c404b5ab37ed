using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// y = x W^T (+ b) over rows, with W [out, in] stored as Hugging Face stores it (so the GEMM uses B transposed).
/// The bias goes in with a second, rank-1 GEMM, y += ones[rows, 1] @ b[1, out], and its gradient is the column
/// sum db += ones^T dy: the ABI has no broadcast add, and a K = 1 GEMM is exactly that add, memory-bound like a
/// dedicated kernel would be.
/// </summary>
internal sealed class Linear<T>(Weight<T> weight, Weight<T>? bias = null) where T : unmanaged
{
    private long In => weight.Shape[1];

    private long Out => weight.Shape[0];

    /// <summary>y [rows, out] = x [rows, in] W^T + b, or y += that when <paramref name="accumulate"/> (the residual
    /// add of a projection that writes into the residual stream), with the ones and the GEMM mode of
    /// <paramref name="arena"/>'s batch (<see cref="ActivationArena{T}.BatchInvariant"/>: each row of y then does not
    /// depend on the other rows; the bias add is one rounding per element either way).</summary>
    public void Forward(WorldPMContext context, DeviceBuffer<T> x, DeviceBuffer<T> y, long rows,
        ActivationArena<T> arena, bool accumulate = false)
    {
        var layout = new GemmLayout(rows, Out, In) { TransposeB = true, RowInvariant = arena.BatchInvariant };
        Ops.Gemm(context, x, weight.Value, y, layout, beta: accumulate ? 1f : 0f);
        if (bias is not null) Ops.Gemm(context, arena.Layout.Ones, bias.Value, y, rows, Out, 1, beta: 1f);
    }

    /// <summary>dW += dy^T x, db += ones^T dy, and dx [rows, in] = dy W (or += with <paramref name="accumulateDx"/>,
    /// for inputs that feed several projections); dx null skips the input gradient.</summary>
    public void Backward(WorldPMContext context, DeviceBuffer<T> dy, DeviceBuffer<T> x,
        DeviceBuffer<T>? dx, long rows, DeviceBuffer<T> ones, bool accumulateDx = false)
    {
        Ops.Gemm(context, dy, x, weight.Grad, Out, In, rows, transposeA: true, beta: 1f);
        if (bias is not null) Ops.Gemm(context, ones, dy, bias.Grad, 1, Out, rows, transposeA: true, beta: 1f);
        if (dx is not null) Ops.Gemm(context, dy, weight.Value, dx, rows, In, Out, beta: accumulateDx ? 1f : 0f);
    }
}
