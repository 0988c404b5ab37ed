using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// y = x W^T (+ b) over rows, with W [out, in] stored as Hugging Face stores it (so the GEMM uses B transposed).
/// The bias goes in with a second, rank-1 GEMM, y += ones[rows, 1] @ b[1, out], and its gradient is the column
/// sum db += ones^T dy: the ABI has no broadcast add, and a K = 1 GEMM is exactly that add, memory-bound like a
/// dedicated kernel would be.
/// </summary>
internal sealed class Linear(Parameter weight, Parameter? bias = null)
{
    public Parameter Weight { get; } = weight;

    public Parameter? Bias { get; } = bias;

    private long In => Weight.Shape[1];

    private long Out => Weight.Shape[0];

    /// <summary>y [rows, out] = x [rows, in] W^T + b, or y += that when <paramref name="accumulate"/> (the residual
    /// add of a projection that writes into the residual stream).</summary>
    public void Forward(WorldPMContext context, DeviceBuffer<float> x, DeviceBuffer<float> y, long rows,
        DeviceBuffer<float> ones, bool accumulate = false)
    {
        Ops.Gemm(context, x, Weight.Value, y, rows, Out, In, transposeB: true, beta: accumulate ? 1f : 0f);
        if (Bias is not null) Ops.Gemm(context, ones, Bias.Value, y, rows, Out, 1, beta: 1f);
    }

    /// <summary>dW += dy^T x, db += ones^T dy, and dx [rows, in] = dy W (or += with <paramref name="accumulateDx"/>,
    /// for inputs that feed several projections); dx null skips the input gradient.</summary>
    public void Backward(WorldPMContext context, DeviceBuffer<float> dy, DeviceBuffer<float> x,
        DeviceBuffer<float>? dx, long rows, DeviceBuffer<float> ones, bool accumulateDx = false)
    {
        Ops.Gemm(context, dy, x, Weight.Grad, Out, In, rows, transposeA: true, beta: 1f);
        if (Bias is not null) Ops.Gemm(context, ones, dy, Bias.Grad, 1, Out, rows, transposeA: true, beta: 1f);
        if (dx is not null) Ops.Gemm(context, dy, Weight.Value, dx, rows, In, Out, beta: accumulateDx ? 1f : 0f);
    }
}
