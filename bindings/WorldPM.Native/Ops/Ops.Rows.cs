using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

public static unsafe partial class Ops
{
    /// <summary>
    /// picked[i, :] = all[index[i], :]: all [R, C], index [N] in 0..R-1, picked [N, C]. The trainer picks each
    /// sequence's scoring row out of [B T, C] activations with it.
    /// </summary>
    public static void RowsGather<T>(WorldPMContext context, DeviceBuffer<T> all, DeviceBuffer<int> index,
        DeviceBuffer<T> picked, long count, long rows, long channels) where T : unmanaged
    {
        using var lease = new HandleLease([context, all, index, picked]);
        var p = RowsParams(index, count, rows, channels, all, picked);
        Check(NativeMethods.wpm_rows_gather(Ptr(context), &p));
    }

    /// <summary>
    /// all[index[i], :] += picked[i, :] (ACCUMULATES): picked [N, C], index [N] in 0..R-1, all [R, C]. The rows of
    /// a repeated index are summed in index order and added once (deterministic).
    /// </summary>
    public static void RowsScatterAdd<T>(WorldPMContext context, DeviceBuffer<T> picked, DeviceBuffer<int> index,
        DeviceBuffer<T> all, long count, long rows, long channels) where T : unmanaged
    {
        using var lease = new HandleLease([context, picked, index, all]);
        var p = RowsParams(index, count, rows, channels, picked, all);
        Check(NativeMethods.wpm_rows_scatter_add(Ptr(context), &p));
    }

    private static NativeMethods.wpm_rows_params RowsParams<T>(DeviceBuffer<int> index, long count, long rows,
        long channels, DeviceBuffer<T> src, DeviceBuffer<T> dst) where T : unmanaged => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_rows_params),
        n = count,
        r = rows,
        c = channels,
        index = Ptr(index),
        src = Ptr(src),
        dst = Ptr(dst),
    };
}
