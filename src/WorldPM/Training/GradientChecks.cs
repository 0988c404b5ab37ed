using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>The two reductions a step runs over gradient buffers before it may use them, the inf/NaN check and the L2
/// norm, each into a one-element device buffer that stays there: the AdamW step reads them on the device and the
/// host with the step's other metrics (<see cref="StepMetricsBuffer"/>).</summary>
internal static class GradientChecks
{
    /// <summary><paramref name="nonFinite"/>[0] = 1 when any element of <paramref name="checkedTensors"/> is inf or NaN,
    /// else 0 (a check only: scale 1 leaves the values as they are); <paramref name="norm"/>[0] = the L2 norm of all
    /// elements of <paramref name="normTensors"/> together.</summary>
    public static void Run(WorldPMContext context, IReadOnlyList<DeviceBuffer> checkedTensors,
        IReadOnlyList<DeviceBuffer> normTensors, DeviceBuffer<float> nonFinite, DeviceBuffer<float> norm)
    {
        Ops.ScaleCheckFinite(context, checkedTensors, 1f, nonFinite);
        Ops.GlobalNorm(context, normTensors, norm);
    }
}
