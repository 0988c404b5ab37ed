using System.Buffers;
using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

/// <summary>
/// Buffers over memory the caller owns, without a copy (<c>wpm_buffer_wrap</c>): ops read and write the caller's
/// memory directly. Disposing such a buffer (or any view of it) never frees the memory. On the CPU backend the
/// memory is host memory (arrays, <see cref="Memory{T}"/>, spans, native allocations); on cuda it must be device
/// memory of the context's device, on emu the emulator's device memory (another buffer's
/// <see cref="DeviceBuffer.DevicePointer"/>): a host pointer there throws <see cref="WorldPMArgumentException"/>.
/// </summary>
public sealed unsafe partial class WorldPMContext
{
    /// <summary>
    /// Wraps <paramref name="memory"/> as a one-dimensional buffer of its length. The memory is pinned (through its
    /// <see cref="MemoryHandle"/>) until this buffer and every view made of it are disposed or finalized, so the
    /// garbage collector cannot move it while the library may touch it.
    /// </summary>
    /// <typeparam name="T">float, <see cref="Half"/>, <see cref="BFloat16"/> or int.</typeparam>
    /// <exception cref="NotSupportedException">T is not a WorldPM element type.</exception>
    /// <exception cref="WorldPMArgumentException">The memory cannot be wrapped on this backend (host memory on cuda
    /// or emu).</exception>
    public DeviceBuffer<T> Wrap<T>(Memory<T> memory) where T : unmanaged
    {
        DTypes.Of<T>(); // an unsupported T is refused before anything is pinned
        MemoryHandle pin = memory.Pin();
        try
        {
            return WrapCore<T>(pin.Pointer, memory.Length, CallerMemory.Pinned(pin));
        }
        catch
        {
            pin.Dispose(); // WrapCore failed before a handle took the pin over
            throw;
        }
    }

    /// <summary>Wraps the whole of <paramref name="array"/>, pinned while the buffer or a view of it lives (see
    /// <see cref="Wrap{T}(Memory{T})"/>). An array allocated on the pinned object heap
    /// (<see cref="GC.AllocateArray{T}(int, bool)"/>) works the same.</summary>
    public DeviceBuffer<T> Wrap<T>(T[] array) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(array);
        return Wrap(new Memory<T>(array));
    }

    /// <summary>
    /// Wraps <paramref name="count"/> elements at <paramref name="pointer"/>: native host memory, or a device pointer
    /// on cuda/emu. Nothing is pinned: the caller keeps the memory valid (and unmoved) until the buffer and its views
    /// are disposed. The library cannot see the extent of host or CUDA memory, so <paramref name="count"/> is taken
    /// on trust there; emu checks the range against its allocation.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="WorldPMArgumentException">A null pointer with a count, a pointer not aligned to T, a count
    /// too large, or memory this backend cannot address; the message names the argument.</exception>
    public DeviceBuffer<T> Wrap<T>(T* pointer, long count) where T : unmanaged => WrapCore<T>(pointer, count, null);

    /// <summary>Wraps <paramref name="count"/> elements at <paramref name="pointer"/> (see <see cref="Wrap{T}(T*, long)"/>).</summary>
    public DeviceBuffer<T> Wrap<T>(nint pointer, long count) where T : unmanaged => WrapCore<T>((void*)pointer, count, null);

    /// <summary>
    /// Runs <paramref name="body"/> with <paramref name="span"/> wrapped as a buffer (pinned for the call). A span
    /// cannot be stored, so the buffer is valid only inside <paramref name="body"/>: when it returns (or throws), the
    /// buffer and every view made of it are disposed, and later use throws <see cref="ObjectDisposedException"/>.
    /// Work on the buffer must finish inside the callback (synchronize before returning on an asynchronous backend).
    /// </summary>
    public void WithWrapped<T>(Span<T> span, Action<DeviceBuffer<T>> body) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(body);
        WithWrapped(span, buffer =>
        {
            body(buffer);
            return 0;
        });
    }

    /// <summary>As <see cref="WithWrapped{T}(Span{T}, Action{DeviceBuffer{T}})"/>, returning what
    /// <paramref name="body"/> returns.</summary>
    public TResult WithWrapped<T, TResult>(Span<T> span, Func<DeviceBuffer<T>, TResult> body) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(body);
        var scope = CallerMemory.Scoped();
        fixed (T* pointer = span)
        {
            DeviceBuffer<T> buffer = WrapCore<T>(pointer, span.Length, scope);
            try
            {
                return body(buffer);
            }
            finally
            {
                scope.EndScope(); // before `fixed` lets the span move
            }
        }
    }

    private DeviceBuffer<T> WrapCore<T>(void* pointer, long count, CallerMemory? memory) where T : unmanaged
    {
        DType dtype = DTypes.Of<T>();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        using var lease = new HandleLease([this]);
        nint created;
        Check(NativeMethods.wpm_buffer_wrap(Ptr(this), dtype, pointer, (nuint)count, &created));
        return new DeviceBuffer<T>(this, new BufferHandle(created, memory), [count]);
    }
}
