using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

/// <summary>
/// Memory of one <see cref="WorldPMContext"/> (host memory on the CPU backend, device memory on a GPU): an
/// allocation, memory of the caller's wrapped without a copy (<see cref="WorldPMContext.Wrap{T}(Memory{T})"/> and its
/// overloads; disposing never frees it), or a view into either. The shape is managed metadata (row-major); the library itself only
/// knows the element count and dtype, and ops take their dimensions explicitly.
/// </summary>
public abstract unsafe class DeviceBuffer : IDisposable, INativeObject
{
    private readonly BufferHandle handle;
    private readonly long[] shape;

    private protected DeviceBuffer(WorldPMContext context, BufferHandle handle, long[] shape)
    {
        Context = context;
        this.handle = handle;
        this.shape = shape;
        Count = CountOf(shape);
    }

    NativeHandle INativeObject.Handle => handle;

    /// <summary>The context that allocated this buffer.</summary>
    public WorldPMContext Context { get; }

    /// <summary>The element type.</summary>
    public abstract DType DType { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<long> Shape => Array.AsReadOnly(shape);

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public long Count { get; }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => handle.IsClosed;

    /// <summary>
    /// The address of the first element (of this view, not of its parent): a host pointer on the CPU backend, a CUDA
    /// device pointer on cuda, an emulated device pointer on emu. For handing the memory to other code, or back to
    /// <see cref="WorldPMContext.Wrap{T}(nint, long)"/>; it stays valid while this buffer (or a view of its memory)
    /// lives. For a wrapped buffer it is the caller's own pointer.
    /// </summary>
    public nint DevicePointer
    {
        get
        {
            using var lease = new HandleLease([this]);
            void* pointer;
            Check(NativeMethods.wpm_buffer_device_pointer(Ptr(this), &pointer));
            return (nint)pointer;
        }
    }

    /// <summary>The caller's memory this buffer wraps (null for allocated memory): views share it.</summary>
    private protected CallerMemory? WrappedMemory => handle.Memory;

    /// <summary>A one-dimensional window of <paramref name="count"/> elements from <paramref name="offset"/>, of this
    /// buffer's element type (<see cref="DeviceBuffer{T}.View"/> where the type is known). Disposed on its own.</summary>
    public DeviceBuffer Slice(long offset, long count) => SliceCore(offset, count);

    private protected abstract DeviceBuffer SliceCore(long offset, long count);

    /// <summary>Sets every element to <paramref name="value"/> (converted to the dtype; whole numbers for int).</summary>
    public void Fill(double value)
    {
        using var lease = new HandleLease([this]);
        Check(NativeMethods.wpm_buffer_fill(Ptr(this), value));
    }

    /// <summary>Uniform random values in [low, high); the same seed gives the same bits on every backend.</summary>
    public void FillUniform(ulong seed, float low = 0f, float high = 1f)
    {
        using var lease = new HandleLease([this]);
        Check(NativeMethods.wpm_fill_uniform(Ptr(this), seed, low, high));
    }

    /// <summary>Normal random values; the same seed gives the same bits on every backend.</summary>
    public void FillNormal(ulong seed, float mean = 0f, float stddev = 1f)
    {
        using var lease = new HandleLease([this]);
        Check(NativeMethods.wpm_fill_normal(Ptr(this), seed, mean, stddev));
    }

    /// <summary>Releases the handle; the memory goes when no view of it is left.</summary>
    public void Dispose() => handle.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"DeviceBuffer<{DType}>[{string.Join(", ", shape)}]";

    /// <summary>The element count of a shape; dimensions must be non-negative and the product must fit.</summary>
    internal static long CountOf(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long dim in shape)
        {
            if (dim < 0)
                throw new ArgumentOutOfRangeException(nameof(shape), $"shape [{string.Join(", ", shape.ToArray())}] has a negative dimension");
            if (dim != 0 && count > long.MaxValue / dim)
                throw new ArgumentOutOfRangeException(nameof(shape), $"shape [{string.Join(", ", shape.ToArray())}] overflows a 64-bit element count");
            count *= dim;
        }
        return count;
    }
}

/// <summary>A <see cref="DeviceBuffer"/> of elements of type T (float, Half, <see cref="BFloat16"/> or int).</summary>
public sealed unsafe class DeviceBuffer<T> : DeviceBuffer where T : unmanaged
{
    internal DeviceBuffer(WorldPMContext context, BufferHandle handle, long[] shape) : base(context, handle, shape) { }

    /// <inheritdoc/>
    public override DType DType => DTypes.Of<T>();

    /// <summary>Copies host data into the buffer, starting at element <paramref name="offset"/>.</summary>
    public void CopyFrom(ReadOnlySpan<T> source, long offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        using var lease = new HandleLease([this]);
        fixed (T* host = source)
            Check(NativeMethods.wpm_buffer_write(Ptr(this), (nuint)offset, host, (nuint)source.Length));
    }

    /// <summary>Copies elements from element <paramref name="offset"/> on into host memory (destination.Length of them).</summary>
    public void CopyTo(Span<T> destination, long offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        using var lease = new HandleLease([this]);
        fixed (T* host = destination)
            Check(NativeMethods.wpm_buffer_read(Ptr(this), (nuint)offset, host, (nuint)destination.Length));
    }

    /// <summary>Device-to-device copy of the whole of <paramref name="source"/> (same count).</summary>
    public void CopyFrom(DeviceBuffer<T> source)
    {
        using var lease = new HandleLease([this, source]);
        Check(NativeMethods.wpm_buffer_copy(Ptr(this), Ptr(source)));
    }

    /// <summary>All elements, copied to a new array.</summary>
    public T[] ToArray()
    {
        var host = new T[checked((int)Count)];
        CopyTo(host);
        return host;
    }

    /// <summary>A one-dimensional window of <paramref name="count"/> elements from <paramref name="offset"/>.
    /// It keeps the memory alive, but is disposed on its own.</summary>
    public DeviceBuffer<T> View(long offset, long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return ViewOf(offset, [count]);
    }

    private protected override DeviceBuffer SliceCore(long offset, long count) => View(offset, count);

    /// <summary>A view of the whole buffer with another shape of the same element count.</summary>
    public DeviceBuffer<T> Reshape(params ReadOnlySpan<long> shape)
    {
        if (CountOf(shape) != Count)
            throw new ArgumentException(
                $"shape [{string.Join(", ", shape.ToArray())}] holds {CountOf(shape)} elements but the buffer holds {Count}",
                nameof(shape));
        return ViewOf(0, shape);
    }

    private DeviceBuffer<T> ViewOf(long offset, ReadOnlySpan<long> shape)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        long[] dims = shape.ToArray();
        long count = CountOf(dims);
        using var lease = new HandleLease([this]);
        nint view;
        Check(NativeMethods.wpm_buffer_view(Ptr(this), (nuint)offset, (nuint)count, &view));
        // A view of wrapped memory holds the caller's pin too: it may outlive this buffer.
        return new DeviceBuffer<T>(Context, new BufferHandle(view, WrappedMemory), dims);
    }
}
