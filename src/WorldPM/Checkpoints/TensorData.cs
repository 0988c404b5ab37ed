using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace WorldPM.Checkpoints;

/// <summary>
/// One named tensor held on the host as the raw little-endian bytes that a safetensors file stores:
/// what the model's parameters and the optimizer's moments are copied to before writing, and what
/// reading gives back. Bytes, not floats, so every dtype round-trips bit for bit (NaN payloads,
/// negative zeros and bf16 rounding included).
/// </summary>
/// <remarks>
/// <see cref="Data"/> is a byte array, so one tensor holds less than 2 GiB; larger tensors are read
/// in pieces with <see cref="SafeTensorsFile.ReadInto"/>. The arrays are not copied: do not change
/// them while a writer may be reading them.
/// </remarks>
public sealed class TensorData
{
    /// <summary>Wraps <paramref name="data"/>; its length must be the element count times the dtype's size.</summary>
    public TensorData(string name, TensorDType dtype, long[] shape, byte[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (!TryByteLength(shape, dtype, out long expected))
            throw new ArgumentException($"tensor {name}: shape [{string.Join(", ", shape)}] has a negative dimension or too many elements", nameof(shape));
        if (data.LongLength != expected)
            throw new ArgumentException($"tensor {name}: {data.LongLength} bytes of data for {dtype} [{string.Join(", ", shape)}], which needs {expected}", nameof(data));
        Name = name;
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    /// <summary>Hugging Face name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Element type of <see cref="Data"/>.</summary>
    public TensorDType DType { get; }

    /// <summary>Dimensions, outermost first (row-major); empty for a scalar.</summary>
    public long[] Shape { get; }

    /// <summary>The elements as little-endian bytes, row-major.</summary>
    public byte[] Data { get; }

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Data.LongLength / DType.ByteSize();

    /// <summary>
    /// A tensor whose elements are <paramref name="values"/> reinterpreted as bytes; <typeparamref name="T"/>
    /// must have the dtype's size (e.g. <c>float</c> for F32, <c>ushort</c> or <c>Half</c> for F16/BF16, <c>long</c> for I64).
    /// </summary>
    public static TensorData Create<T>(string name, TensorDType dtype, long[] shape, ReadOnlySpan<T> values) where T : unmanaged
    {
        RequireElementSize<T>(dtype, name);
        return new TensorData(name, dtype, shape, MemoryMarshal.AsBytes(values).ToArray());
    }

    /// <summary>The elements viewed as <typeparamref name="T"/>, which must have the dtype's size.</summary>
    public ReadOnlySpan<T> Values<T>() where T : unmanaged
    {
        RequireElementSize<T>(DType, Name);
        return MemoryMarshal.Cast<byte, T>(Data);
    }

    /// <summary>
    /// Stores float values as F32, F16 or BF16. F16 and BF16 round to nearest even (as the GPU's
    /// conversions do); a NaN stays a NaN.
    /// </summary>
    public static TensorData FromFloats(string name, long[] shape, ReadOnlySpan<float> values, TensorDType dtype = TensorDType.F32)
    {
        switch (dtype)
        {
            case TensorDType.F32:
                return Create(name, dtype, shape, values);
            case TensorDType.F16:
            case TensorDType.BF16:
                var bits = new ushort[values.Length];
                for (int i = 0; i < values.Length; i++)
                    bits[i] = dtype == TensorDType.F16 ? BitConverter.HalfToUInt16Bits((Half)values[i]) : FloatToBFloat16(values[i]);
                return Create<ushort>(name, dtype, shape, bits);
            default:
                throw new ArgumentException($"tensor {name}: FromFloats stores F32, F16 or BF16, not {dtype}", nameof(dtype));
        }
    }

    /// <summary>The elements of an F32, F16 or BF16 tensor widened to float (exact).</summary>
    public float[] ToFloats() => DType switch
    {
        TensorDType.F32 => Values<float>().ToArray(),
        TensorDType.F16 => Array.ConvertAll(Values<ushort>().ToArray(), h => (float)BitConverter.UInt16BitsToHalf(h)),
        TensorDType.BF16 => Array.ConvertAll(Values<ushort>().ToArray(), b => BitConverter.UInt32BitsToSingle((uint)b << 16)),
        _ => throw new InvalidOperationException($"tensor {Name} is {DType}; ToFloats reads F32, F16 or BF16"),
    };

    /// <summary>Round to nearest even on the 16 dropped bits; NaN is kept quiet (not rounded into infinity).</summary>
    internal static ushort FloatToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>Product of the dimensions and the element size; false when a dimension is negative or the product overflows a long.</summary>
    internal static bool TryByteLength(ReadOnlySpan<long> shape, TensorDType dtype, out long bytes)
    {
        bytes = dtype.ByteSize();
        foreach (long dim in shape)
        {
            if (dim < 0) return false;
            try { bytes = checked(bytes * dim); }
            catch (OverflowException) { return false; }
        }
        return true;
    }

    private static void RequireElementSize<T>(TensorDType dtype, string name) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (size != dtype.ByteSize())
            throw new ArgumentException($"tensor {name}: {typeof(T).Name} has {size} bytes but {dtype} elements have {dtype.ByteSize()}");
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {DType} [{string.Join(", ", Shape)}]";
}
