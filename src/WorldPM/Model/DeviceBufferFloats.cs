using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>Reads a floating-point buffer of any storage dtype as fp32 values on the host.</summary>
public static class DeviceBufferFloats
{
    /// <summary>All elements of an f32, f16 or bf16 buffer, widened (exactly) to float.</summary>
    /// <exception cref="NotSupportedException">An integer buffer.</exception>
    public static float[] ToFloats(this DeviceBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return buffer switch
        {
            DeviceBuffer<float> f => f.ToArray(),
            DeviceBuffer<Half> h => Array.ConvertAll(h.ToArray(), v => (float)v),
            DeviceBuffer<BFloat16> b => Array.ConvertAll(b.ToArray(), v => (float)v),
            _ => throw new NotSupportedException($"{buffer} is not a floating-point buffer"),
        };
    }
}
