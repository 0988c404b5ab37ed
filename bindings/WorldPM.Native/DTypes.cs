namespace WorldPM.Native;

/// <summary>The element types a <see cref="DeviceBuffer{T}"/> can hold and their <see cref="DType"/>.</summary>
public static class DTypes
{
    /// <summary>The dtype of T: float, Half, BFloat16 or int.</summary>
    /// <exception cref="NotSupportedException">Any other T.</exception>
    public static DType Of<T>() where T : unmanaged => Cache<T>.Value ?? throw new NotSupportedException(
        $"{typeof(T).Name} is not a WorldPM element type; use float, Half, BFloat16 or int.");

    /// <summary>Bytes per element.</summary>
    public static int SizeOf(DType dtype) => dtype switch
    {
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a WorldPM dtype"),
    };

    private static class Cache<T>
    {
        internal static readonly DType? Value =
            typeof(T) == typeof(float) ? DType.F32 :
            typeof(T) == typeof(Half) ? DType.F16 :
            typeof(T) == typeof(BFloat16) ? DType.BF16 :
            typeof(T) == typeof(int) ? DType.I32 :
            null;
    }
}
