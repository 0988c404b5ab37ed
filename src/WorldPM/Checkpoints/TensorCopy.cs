using System.Buffers;
using System.Runtime.InteropServices;
using WorldPM.Native;

namespace WorldPM.Checkpoints;

/// <summary>Told of the first non-finite value (NaN or infinity) of each piece a load copies; it throws to refuse the tensor.</summary>
/// <param name="element">The value's index in the tensor.</param>
/// <param name="value">The value (widened to float).</param>
public delegate void NonFiniteValue(long element, float value);

/// <summary>
/// Copies a stored tensor's bytes, piece by piece as a file hands them over, into a backend buffer of the
/// destination's dtype (float, <see cref="Half"/> or <see cref="BFloat16"/>): a floating dtype on disk (F32, F16,
/// BF16, F64) is converted to the buffer's. The same dtype is copied straight from the piece into the buffer; any
/// other is converted through a small reused staging array, never a whole tensor. Narrowing rounds to nearest even
/// (F64 is rounded to float first, then to F16/BF16).
/// </summary>
internal static class TensorCopy
{
    /// <summary>
    /// The piece handler that copies a <paramref name="source"/> tensor's bytes into <paramref name="destination"/> (a
    /// float, <see cref="Half"/> or <see cref="BFloat16"/> buffer): called with (byte offset into the copied range, whole
    /// elements), it stores them at the matching element of the buffer.
    /// </summary>
    public static Action<long, ReadOnlySpan<byte>> Into(DeviceBuffer destination, TensorDType source, NonFiniteValue? onNonFinite) =>
        destination switch
        {
            DeviceBuffer<float> f => new TensorCopy<float>(f, source, onNonFinite).Piece,
            DeviceBuffer<Half> h => new TensorCopy<Half>(h, source, onNonFinite).Piece,
            DeviceBuffer<BFloat16> b => new TensorCopy<BFloat16>(b, source, onNonFinite).Piece,
            _ => throw new ArgumentException($"{destination} is not a float, Half or BFloat16 buffer", nameof(destination)),
        };
}

/// <summary>The copy of <see cref="TensorCopy"/> into a buffer of <typeparamref name="T"/>.</summary>
internal sealed class TensorCopy<T> where T : unmanaged
{
    /// <summary>Elements converted per staging pass.</summary>
    private const int StagingElements = 1 << 20;

    private readonly DeviceBuffer<T> destination;
    private readonly TensorDType source;
    private readonly NonFiniteValue? onNonFinite;

    public TensorCopy(DeviceBuffer<T> destination, TensorDType source, NonFiniteValue? onNonFinite)
    {
        this.destination = destination;
        this.source = source;
        this.onNonFinite = onNonFinite;
    }

    /// <summary>Copies <paramref name="bytes"/>, whole elements starting <paramref name="byteOffset"/> bytes into the tensor.</summary>
    public void Piece(long byteOffset, ReadOnlySpan<byte> bytes)
    {
        long element = byteOffset / source.ByteSize();
        if (source == StoredAs && (onNonFinite is null || source == TensorDType.F32))
        {
            if (onNonFinite is not null) Check(MemoryMarshal.Cast<byte, float>(bytes), element);
            destination.CopyFrom(MemoryMarshal.Cast<byte, T>(bytes), element);
            return;
        }
        int count = bytes.Length / source.ByteSize();
        float[] wide = ArrayPool<float>.Shared.Rent(Math.Min(StagingElements, count));
        T[]? narrow = typeof(T) == typeof(float) ? null : ArrayPool<T>.Shared.Rent(wide.Length);
        try
        {
            for (int done = 0; done < count;)
            {
                int n = Math.Min(wide.Length, count - done);
                Span<float> values = wide.AsSpan(0, n);
                Widen(bytes.Slice(done * source.ByteSize(), n * source.ByteSize()), values);
                Check(values, element + done);
                if (narrow is null)
                {
                    destination.CopyFrom(MemoryMarshal.Cast<float, T>(values), element + done);
                }
                else
                {
                    Narrow(values, narrow.AsSpan(0, n));
                    destination.CopyFrom(narrow.AsSpan(0, n), element + done);
                }
                done += n;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(wide);
            if (narrow is not null) ArrayPool<T>.Shared.Return(narrow);
        }
    }

    /// <summary>The dtype a file stores the destination's elements as.</summary>
    private static TensorDType StoredAs =>
        typeof(T) == typeof(float) ? TensorDType.F32 : typeof(T) == typeof(Half) ? TensorDType.F16 : TensorDType.BF16;

    private void Check(ReadOnlySpan<float> values, long first)
    {
        if (onNonFinite is null) return;
        for (int i = 0; i < values.Length; i++)
        {
            if (float.IsFinite(values[i])) continue;
            onNonFinite(first + i, values[i]);
            return;
        }
    }

    private void Widen(ReadOnlySpan<byte> bytes, Span<float> values)
    {
        switch (source)
        {
            case TensorDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(values);
                break;
            case TensorDType.F16:
                ReadOnlySpan<Half> halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < values.Length; i++) values[i] = (float)halves[i];
                break;
            case TensorDType.BF16:
                ReadOnlySpan<ushort> bits = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < values.Length; i++) values[i] = BitConverter.UInt32BitsToSingle((uint)bits[i] << 16);
                break;
            case TensorDType.F64:
                ReadOnlySpan<double> doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < values.Length; i++) values[i] = (float)doubles[i];
                break;
            default:
                throw new InvalidOperationException($"{source} is not a floating dtype; the caller checks IsFloatingPoint first");
        }
    }

    private static void Narrow(ReadOnlySpan<float> values, Span<T> into)
    {
        Span<byte> raw = MemoryMarshal.AsBytes(into);
        if (typeof(T) == typeof(Half))
        {
            Span<Half> h = MemoryMarshal.Cast<byte, Half>(raw);
            for (int i = 0; i < values.Length; i++) h[i] = (Half)values[i];
        }
        else
        {
            Span<BFloat16> b = MemoryMarshal.Cast<byte, BFloat16>(raw);
            for (int i = 0; i < values.Length; i++) b[i] = (BFloat16)values[i];
        }
    }
}
