using System.Runtime.InteropServices;

namespace WorldPM.Native.Interop;

/// <summary>
/// Keeps the handles of a native call alive and unreleasable for the length of the call:
/// <c>DangerousAddRef</c> on each (which also turns a disposed object into an
/// <see cref="ObjectDisposedException"/> before anything reaches native code), <c>DangerousRelease</c> on
/// Dispose. Without it, a Dispose on another thread or a finalizer could free a handle mid-call.
/// Null entries are skipped: they stand for NULL pointers (optional arguments, or a missing one that the
/// library reports by name).
/// <code>
/// using var lease = new HandleLease([context, x, output]);
/// Native.Check(NativeMethods.wpm_gelu_fwd(Ptr(context), Ptr(x), Ptr(output), n, kind));
/// </code>
/// </summary>
internal readonly ref struct HandleLease
{
    private readonly ReadOnlySpan<INativeObject?> objects;

    public HandleLease(ReadOnlySpan<INativeObject?> objects)
    {
        int added = 0;
        try
        {
            for (; added < objects.Length; added++)
            {
                SafeHandle? handle = objects[added]?.Handle;
                if (handle is null) continue;
                if (handle.IsClosed) throw new ObjectDisposedException(objects[added]!.GetType().Name);
                bool success = false;
                handle.DangerousAddRef(ref success);
            }
        }
        catch
        {
            Release(objects[..added]);
            throw;
        }
        this.objects = objects;
    }

    public void Dispose() => Release(objects);

    private static void Release(ReadOnlySpan<INativeObject?> objects)
    {
        foreach (INativeObject? o in objects) o?.Handle.DangerousRelease();
    }
}
