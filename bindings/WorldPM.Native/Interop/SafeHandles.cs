using Microsoft.Win32.SafeHandles;

namespace WorldPM.Native.Interop;

/// <summary>Owns a <c>wpm_context*</c>; destroys it once, on Dispose or finalization.</summary>
internal sealed class ContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    internal ContextHandle(nint existing) : base(ownsHandle: true) => SetHandle(existing);

    protected override bool ReleaseHandle() => NativeMethods.wpm_context_destroy(handle) == WorldPMStatus.Ok;
}

/// <summary>
/// Owns a <c>wpm_buffer*</c> (an allocation or a view); frees it once. Freeing after the context is gone is
/// valid (worldpm.h), so the finalizer order of contexts and buffers does not matter.
/// </summary>
internal sealed class BufferHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    internal BufferHandle(nint existing) : base(ownsHandle: true) => SetHandle(existing);

    /// <summary>The caller's memory this buffer wraps (null for library memory and raw pointers): the handle holds
    /// one reference on it, so the memory stays pinned while this handle lives.</summary>
    internal CallerMemory? Memory { get; private set; }

    internal BufferHandle(nint existing, CallerMemory? memory) : this(existing)
    {
        memory?.Attach(this);
        Memory = memory;
    }

    protected override bool ReleaseHandle()
    {
        // Native handle first: the library must be done with the memory before it may move.
        bool freed = NativeMethods.wpm_buffer_free(handle) == WorldPMStatus.Ok;
        Memory?.Detach();
        return freed;
    }
}

/// <summary>Owns a <c>wpm_comm*</c>; destroys it once (a local operation, not a collective).</summary>
internal sealed class CommHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    internal CommHandle(nint existing) : base(ownsHandle: true) => SetHandle(existing);

    protected override bool ReleaseHandle() => NativeMethods.wpm_comm_destroy(handle) == WorldPMStatus.Ok;
}

/// <summary>Something public that owns one native handle (a context or a buffer).</summary>
internal interface INativeObject
{
    SafeHandleZeroOrMinusOneIsInvalid Handle { get; }
}
