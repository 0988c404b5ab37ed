using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using WorldPM.Native;

namespace WorldPM.Checkpoints;

/// <summary>
/// One named tensor as the raw little-endian bytes that a safetensors file stores: what a writer is
/// given, and what reading into memory gives back. Bytes, not floats, so every dtype round-trips bit
/// for bit (NaN payloads, negative zeros and bf16 rounding included).
/// </summary>
/// <remarks>
/// The bytes are either held in <see cref="Data"/> (an array, so under 2 GiB) or produced on demand by
/// a <see cref="TensorBytes"/> source (<see cref="Streamed"/>, <see cref="FromBuffer"/>): a writer then
/// pulls them piece by piece, so a tensor of any size is written without ever being whole in managed
/// memory. Neither is copied: do not change them while a writer may be reading them. A tensor of an open file
/// (<see cref="InFile"/>) is streamed from it, and <see cref="CopyTo(DeviceBuffer, long)"/> copies it into a buffer
/// straight from the file's memory map.
/// </remarks>
public sealed class TensorData
{
    /// <summary>Bytes staged per piece when a tensor not in a file goes into a buffer: a multiple of every element size.</summary>
    private const int StagingBytes = 4 << 20;

    private readonly byte[]? data;
    private readonly TensorBytes? source;
    private readonly SafeTensorsFile? file;

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
        ByteLength = expected;
        this.data = data;
    }

    private TensorData(string name, TensorDType dtype, long[] shape, long byteLength, TensorBytes source, SafeTensorsFile? file = null)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        ByteLength = byteLength;
        this.source = source;
        this.file = file;
    }

    /// <summary>Tensor <paramref name="name"/> of <paramref name="file"/>, read from it when asked (the file must stay
    /// open until then): bytes by positional reads, a buffer's worth through the memory map.</summary>
    internal static TensorData InFile(SafeTensorsFile file, string name)
    {
        TensorInfo info = file[name];
        return new TensorData(name, info.DType, info.Shape, info.ByteLength,
            (offset, destination) => file.ReadInto(name, offset, destination), file);
    }

    /// <summary>
    /// A tensor whose bytes <paramref name="source"/> produces when a writer asks for them, in pieces of whole
    /// elements (each offset and length a multiple of the element size).
    /// </summary>
    public static TensorData Streamed(string name, TensorDType dtype, long[] shape, TensorBytes source)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(source);
        if (!TryByteLength(shape, dtype, out long bytes))
            throw new ArgumentException($"tensor {name}: shape [{string.Join(", ", shape)}] has a negative dimension or too many elements", nameof(shape));
        return new TensorData(name, dtype, shape, bytes, source);
    }

    /// <summary>Hugging Face name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public TensorDType DType { get; }

    /// <summary>Dimensions, outermost first (row-major); empty for a scalar.</summary>
    public long[] Shape { get; }

    /// <summary>The elements as little-endian bytes, row-major, when held in memory.</summary>
    /// <exception cref="InvalidOperationException">A streamed tensor (<see cref="IsStreamed"/>): read it with <see cref="CopyTo"/>.</exception>
    public byte[] Data => data ?? throw new InvalidOperationException(
        $"tensor {Name} ({ByteLength} bytes) is streamed from its source, not held in memory; read it with CopyTo");

    /// <summary>Whether the bytes come from a source on demand rather than from <see cref="Data"/>.</summary>
    public bool IsStreamed => source is not null;

    /// <summary>Size of the data in bytes.</summary>
    public long ByteLength { get; }

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => ByteLength / DType.ByteSize();

    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes, starting <paramref name="offset"/> bytes into the tensor;
    /// for a streamed tensor both must be multiples of the element size.
    /// </summary>
    public void CopyTo(long offset, Span<byte> destination)
    {
        if (offset < 0 || offset > ByteLength || destination.Length > ByteLength - offset)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"bytes [{offset}, {offset + destination.Length}) are outside tensor \"{Name}\" ({ByteLength} bytes)");
        if (data is not null)
        {
            data.AsSpan(checked((int)offset), destination.Length).CopyTo(destination);
            return;
        }
        int size = DType.ByteSize();
        if (offset % size != 0 || destination.Length % size != 0)
            throw new ArgumentException($"tensor {Name}: a streamed tensor is read in whole {size}-byte elements, not bytes [{offset}, {offset + destination.Length})", nameof(offset));
        source!(offset, destination);
    }

    /// <summary>
    /// Copies elements [<paramref name="firstElement"/>, <paramref name="firstElement"/> + <paramref name="destination"/>.Count)
    /// into <paramref name="destination"/> (a float, <see cref="Half"/> or <see cref="BFloat16"/> buffer), converting an
    /// F32, F16, BF16 or F64 tensor to the buffer's dtype (see <see cref="SafeTensorsFile.CopyTo(string, long, DeviceBuffer)"/>).
    /// A tensor of a file goes straight from its memory map; any other through a small staging array, so a tensor of
    /// any size, or one rank's share of it, reaches the buffer without a whole copy on the host.
    /// </summary>
    public void CopyTo(DeviceBuffer destination, long firstElement = 0)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (file is not null)
        {
            file.CopyTo(Name, firstElement, destination);
            return;
        }
        if (!DType.IsConvertibleFloat())
            throw new InvalidOperationException($"tensor {Name} has dtype {DType}; only F32, F16, BF16 and F64 tensors load into {destination.DType} buffers");
        if (firstElement < 0 || firstElement > ElementCount || destination.Count > ElementCount - firstElement)
            throw new ArgumentOutOfRangeException(nameof(firstElement),
                $"elements [{firstElement}, {firstElement + destination.Count}) are outside tensor \"{Name}\" ({ElementCount} elements)");
        Action<long, ReadOnlySpan<byte>> piece = TensorCopy.Into(destination, DType, onNonFinite: null);
        long start = firstElement * DType.ByteSize(), length = destination.Count * DType.ByteSize();
        byte[] staging = ArrayPool<byte>.Shared.Rent((int)Math.Min(StagingBytes, length));
        try
        {
            for (long done = 0; done < length;)
            {
                Span<byte> chunk = staging.AsSpan(0, (int)Math.Min(StagingBytes, length - done));
                CopyTo(start + done, chunk);
                piece(done, chunk);
                done += chunk.Length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(staging);
        }
    }

    /// <summary>
    /// A tensor whose elements are <paramref name="values"/> reinterpreted as bytes; <typeparamref name="T"/>
    /// must have the dtype's size (e.g. <c>float</c> for F32, <c>ushort</c> or <c>Half</c> for F16/BF16, <c>long</c> for I64).
    /// </summary>
    public static TensorData Create<T>(string name, TensorDType dtype, long[] shape, ReadOnlySpan<T> values) where T : unmanaged
    {
        RequireElementSize<T>(dtype, name);
        return new TensorData(name, dtype, shape, MemoryMarshal.AsBytes(values).ToArray());
    }

    /// <summary>The elements viewed as <typeparamref name="T"/>, which must have the dtype's size (a streamed tensor
    /// is read whole into a new array for it, so it must be under 2 GiB).</summary>
    public ReadOnlySpan<T> Values<T>() where T : unmanaged
    {
        RequireElementSize<T>(DType, Name);
        return MemoryMarshal.Cast<byte, T>(data ?? ReadWhole());
    }

    private byte[] ReadWhole()
    {
        if (ByteLength > Array.MaxLength)
            throw new InvalidOperationException($"tensor {Name} has {ByteLength} bytes, more than one array holds; read it in pieces with CopyTo");
        var whole = new byte[ByteLength];
        CopyTo(0, whole);
        return whole;
    }

    /// <summary>
    /// A tensor streamed from <paramref name="buffer"/> (float, <see cref="Half"/> or <see cref="BFloat16"/>, stored as
    /// F32, F16 or BF16 bit for bit) when a writer reads it: each piece goes from the buffer into the writer's own
    /// staging, so a parameter of any size is saved without a whole copy on the host. The buffer must outlive the write
    /// and hold what is to be saved until then.
    /// </summary>
    public static TensorData FromBuffer(string name, long[] shape, DeviceBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        (TensorDType dtype, TensorBytes read) = buffer switch
        {
            DeviceBuffer<float> f => (TensorDType.F32, Reader(f)),
            DeviceBuffer<Half> h => (TensorDType.F16, Reader(h)),
            DeviceBuffer<BFloat16> b => (TensorDType.BF16, Reader(b)),
            _ => throw new ArgumentException($"tensor {name}: {buffer} is not a float, Half or BFloat16 buffer", nameof(buffer)),
        };
        TensorData tensor = Streamed(name, dtype, shape, read);
        if (tensor.ElementCount != buffer.Count)
            throw new ArgumentException($"tensor {name}: shape [{string.Join(", ", shape)}] has {tensor.ElementCount} elements but the buffer holds {buffer.Count}", nameof(shape));
        return tensor;

        static TensorBytes Reader<T>(DeviceBuffer<T> buffer) where T : unmanaged =>
            (offset, destination) => buffer.CopyTo(MemoryMarshal.Cast<byte, T>(destination), offset / Unsafe.SizeOf<T>());
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

    /// <summary>The elements of an F32, F16 or BF16 tensor widened to float (exact; see <see cref="Values{T}"/>).</summary>
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
