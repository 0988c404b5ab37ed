using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// y += x over count elements. The ABI has no elementwise add, so this is the rank-1 GEMM
/// y[1, count] += [1] @ x[1, count] (one element of the ones vector as the 1 x 1 A): one read of x and one
/// read-modify-write of y, the traffic of an add kernel. The row-vector form matters: the same add as a column,
/// [count, 1] @ [1], took 1.5 ms instead of 14 us for 131072 floats with OpenBLAS 0.3.21 here.
/// Forward residual adds need none of this (the projection that ends a block writes into the stream with
/// beta = 1); the backward needs it where an RMSNorm backward, which overwrites its dx, meets the residual gradient.
/// </summary>
internal static class Residual
{
    public static void Add<T>(WorldPMContext context, DeviceBuffer<T> y, DeviceBuffer<T> x, long count,
        DeviceBuffer<T> ones) where T : unmanaged =>
        Ops.Gemm(context, ones, x, y, 1, count, 1, beta: 1f);
}
