using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

public static unsafe partial class Ops
{
    /// <summary>
    /// Adds a micro-batch's preference metrics into <paramref name="metrics"/> (f32 [3]) on the device, so a training
    /// step reads them once: metrics[0] += loss[0] * pairs, metrics[1] += the count of pairs with chosen &gt; rejected,
    /// metrics[2] += the sum of chosen - rejected, where chosen = rewards[0..pairs) and rejected =
    /// rewards[pairs..2 pairs). Each is summed in float64 in pair order and added once.
    /// </summary>
    public static void PairMetrics(WorldPMContext context, DeviceBuffer<float> rewards, DeviceBuffer<float> loss,
        long pairs, DeviceBuffer<float> metrics)
    {
        using var lease = new HandleLease([context, rewards, loss, metrics]);
        Check(NativeMethods.wpm_pair_metrics(Ptr(context), Ptr(rewards), Ptr(loss), pairs, Ptr(metrics)));
    }
}
