using System.Buffers;

namespace WorldPM.Native.Interop;

/// <summary>
/// Managed memory that <see cref="WorldPMContext"/>'s Wrap methods hand to the library without a copy, and what keeps
/// it where the library saw it. Every <see cref="BufferHandle"/> over it (the wrapper and each view of it) holds one
/// reference, so the memory stays valid while any of them lives, whichever is disposed (or finalized) last:
/// <list type="bullet">
/// <item><see cref="Pinned"/>: a <see cref="Memory{T}"/>'s <see cref="MemoryHandle"/>, released with the last reference.</item>
/// <item><see cref="Scoped"/>: a span pinned by a <c>fixed</c> statement for one callback. A span cannot outlive
/// its frame, so neither may a buffer over it: <see cref="EndScope"/> disposes every handle still open when the
/// callback returns (including views the callback made and kept), and later use throws
/// <see cref="ObjectDisposedException"/> instead of reaching memory that may have moved.</item>
/// </list>
/// </summary>
internal sealed class CallerMemory
{
    private readonly object gate = new();
    private MemoryHandle pin;
    private int references;
    private readonly List<BufferHandle>? scoped;
    private bool scopeEnded;

    private CallerMemory(MemoryHandle pin, bool scopedLifetime)
    {
        this.pin = pin;
        scoped = scopedLifetime ? [] : null;
    }

    /// <summary>Memory pinned through <paramref name="pin"/>; unpinned when the last buffer over it goes.</summary>
    internal static CallerMemory Pinned(MemoryHandle pin) => new(pin, scopedLifetime: false);

    /// <summary>Memory pinned by the caller's <c>fixed</c> statement until <see cref="EndScope"/>.</summary>
    internal static CallerMemory Scoped() => new(default, scopedLifetime: true);

    /// <summary>A new handle over this memory (the wrapper, or a view made from a handle over it).</summary>
    internal void Attach(BufferHandle handle)
    {
        lock (gate)
        {
            // A view made after the scope ended would reach unpinned memory; the parent is closed by then, so this
            // is a guard against a bug here rather than a caller's path.
            if (scopeEnded) throw new ObjectDisposedException(nameof(DeviceBuffer), "the wrapped span's scope has ended");
            references++;
            scoped?.Add(handle);
        }
    }

    /// <summary>A handle over this memory was released; the last one unpins it.</summary>
    internal void Detach()
    {
        bool last;
        lock (gate) last = --references == 0;
        if (last) pin.Dispose();  // default(MemoryHandle) for a scoped span: nothing to release
    }

    /// <summary>The span's <c>fixed</c> scope is about to end: close every buffer over it.</summary>
    internal void EndScope()
    {
        BufferHandle[] open;
        lock (gate)
        {
            scopeEnded = true;
            open = scoped!.ToArray();
            scoped.Clear();
        }
        // A handle leased by a call still running elsewhere is released when that call returns (SafeHandle's
        // reference count); the callback must not leave work on other threads that outlives it.
        foreach (BufferHandle handle in open) handle.Dispose();
    }
}
