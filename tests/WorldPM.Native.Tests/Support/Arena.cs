using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native.Tests.Support;

/// <summary>
/// What a test needs from the library: a context on the backend under test (<see cref="TestBackend"/>), a second one (for "buffer of another context"),
/// buffers that are disposed with the arena, and stale pointers (freed buffers, destroyed contexts) for
/// the cases that hand the library a dead handle.
/// </summary>
public sealed class Arena : IDisposable
{
    private readonly List<IDisposable> owned = [];

    internal Arena()
    {
        Context = Own(WorldPMContext.Create(TestBackend.Kind, threads: 2));
        Other = Own(WorldPMContext.Create(TestBackend.Kind, threads: 1));
    }

    internal WorldPMContext Context { get; }

    internal WorldPMContext Other { get; }

    internal DeviceBuffer<T> Buffer<T>(params long[] shape) where T : unmanaged => Own(Context.Allocate<T>(shape));

    internal DeviceBuffer<float> F32(params long[] shape) => Buffer<float>(shape);

    internal DeviceBuffer<Half> F16(params long[] shape) => Buffer<Half>(shape);

    internal DeviceBuffer<int> I32(params long[] shape) => Buffer<int>(shape);

    internal DeviceBuffer<float> Upload(params float[] values) => Own(Context.Upload<float>(values));

    internal DeviceBuffer<int> Upload(params int[] values) => Own(Context.Upload<int>(values));

    /// <summary>An f32 buffer of <paramref name="count"/> elements on <see cref="Other"/>.</summary>
    internal DeviceBuffer<float> Foreign(long count) => Own(Other.Allocate<float>(count));

    /// <summary>The raw pointer of a context or buffer (the tests that call <see cref="NativeMethods"/> directly).</summary>
    internal static nint P(INativeObject o) => o.Handle.DangerousGetHandle();

    internal nint Ctx => P(Context);

    /// <summary>A pointer to a buffer that was allocated and freed. Take it last: a later allocation may reuse it.</summary>
    internal unsafe nint FreedBuffer()
    {
        nint buffer;
        Check(NativeMethods.wpm_buffer_alloc(Ctx, DType.F32, 16, &buffer));
        Check(NativeMethods.wpm_buffer_free(buffer));
        return buffer;
    }

    /// <summary>A pointer to a context that was created and destroyed. Take it last, as with <see cref="FreedBuffer"/>.</summary>
    internal unsafe nint DestroyedContext()
    {
        nint context;
        Check(NativeMethods.wpm_context_create(null, &context));
        Check(NativeMethods.wpm_context_destroy(context));
        return context;
    }

    internal T Own<T>(T disposable) where T : IDisposable
    {
        owned.Add(disposable);
        return disposable;
    }

    public void Dispose()
    {
        for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
    }
}
