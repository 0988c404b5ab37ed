using Microsoft.Win32.SafeHandles;

namespace WorldPM.Native.Interop;

/// <summary>
/// Owns one handle the library handed out and releases it once, on Dispose or finalization, with the library's
/// destroy or free function for its kind. The kinds differ only in that function.
/// </summary>
internal abstract class NativeHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    protected NativeHandle(nint existing) : base(ownsHandle: true) => SetHandle(existing);

    /// <summary>The library's destroy or free function for this kind of handle.</summary>
    protected abstract WorldPMStatus Release(nint existing);

    protected sealed override bool ReleaseHandle() => Release(handle) == WorldPMStatus.Ok;
}

/// <summary>Owns a <c>wpm_context*</c>.</summary>
internal sealed class ContextHandle(nint existing) : NativeHandle(existing)
{
    protected override WorldPMStatus Release(nint existing) => NativeMethods.wpm_context_destroy(existing);
}

/// <summary>
/// Owns a <c>wpm_buffer*</c> (an allocation or a view). Freeing after the context is gone is valid (worldpm.h), so
/// the finalizer order of contexts and buffers does not matter.
/// </summary>
internal sealed class BufferHandle : NativeHandle
{
    internal BufferHandle(nint existing) : base(existing) { }

    /// <summary>The caller's memory this buffer wraps (null for library memory and raw pointers): the handle holds
    /// one reference on it, so the memory stays pinned while this handle lives.</summary>
    internal CallerMemory? Memory { get; private set; }

    internal BufferHandle(nint existing, CallerMemory? memory) : this(existing)
    {
        memory?.Attach(this);
        Memory = memory;
    }

    protected override WorldPMStatus Release(nint existing)
    {
        // Native handle first: the library must be done with the memory before it may move.
        WorldPMStatus freed = NativeMethods.wpm_buffer_free(existing);
        Memory?.Detach();
        return freed;
    }
}

/// <summary>Owns a <c>wpm_comm*</c>; destroying it is a local operation, not a collective.</summary>
internal sealed class CommHandle(nint existing) : NativeHandle(existing)
{
    protected override WorldPMStatus Release(nint existing) => NativeMethods.wpm_comm_destroy(existing);
}

/// <summary>Owns a <c>wpm_graph*</c>; destroying it while a replay is queued lets the replay finish.</summary>
internal sealed class GraphHandle(nint existing) : NativeHandle(existing)
{
    protected override WorldPMStatus Release(nint existing) => NativeMethods.wpm_graph_destroy(existing);
}

/// <summary>Something public that owns one native handle (a context, a buffer, a communicator or a graph).</summary>
internal interface INativeObject
{
    NativeHandle Handle { get; }
}
