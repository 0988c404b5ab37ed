using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

/// <summary>
/// The device work of a run of calls on one context, recorded once and replayed (<c>wpm_graph_*</c>; a CUDA graph on
/// cuda, the emulator's recording on emu). A replay runs the same kernels on the same buffers: write new inputs into
/// those buffers before <see cref="Launch"/>. While recording, a call a replay could not repeat (a read-back or wait,
/// an upload from host memory, an allocation or a release of device memory) throws
/// <see cref="WorldPMArgumentException"/> naming that call, and aborts the capture. The cpu backend has no graphs
/// (<see cref="WorldPMUnsupportedException"/>).
/// </summary>
public sealed unsafe class DeviceGraph : IDisposable, INativeObject
{
    private readonly GraphHandle handle;

    private DeviceGraph(GraphHandle handle, WorldPMContext context)
    {
        this.handle = handle;
        Context = context;
    }

    NativeHandle INativeObject.Handle => handle;

    /// <summary>The context that recorded this graph, the only one that may launch it.</summary>
    public WorldPMContext Context { get; }

    /// <summary>
    /// Records what <paramref name="record"/> queues on <paramref name="context"/> into a graph, running none of it.
    /// When <paramref name="record"/> throws (a forbidden call aborted the capture, or anything else), the capture
    /// is ended, nothing is returned and the exception propagates; the context then runs calls at once again.
    /// </summary>
    public static DeviceGraph Capture(WorldPMContext context, Action record)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(record);
        using (var lease = new HandleLease([context]))
            Check(NativeMethods.wpm_graph_capture_begin(Ptr(context)));
        try
        {
            record();
        }
        catch
        {
            EndQuietly(context);
            throw;
        }
        return End(context);
    }

    /// <summary>Queues one replay after the context's queued work; nothing waits.</summary>
    public void Launch()
    {
        using var lease = new HandleLease([Context, this]);
        Check(NativeMethods.wpm_graph_launch(Ptr(Context), Ptr(this)));
    }

    /// <summary>Frees the graph (a replay already queued still runs).</summary>
    public void Dispose() => handle.Dispose();

    private static DeviceGraph End(WorldPMContext context)
    {
        nint graph;
        using (var lease = new HandleLease([context]))
            Check(NativeMethods.wpm_graph_capture_end(Ptr(context), &graph));
        return new DeviceGraph(new GraphHandle(graph), context);
    }

    // After a failure inside the capture: a capture still open is ended and its graph dropped; one the library
    // already aborted has nothing to end.
    private static void EndQuietly(WorldPMContext context)
    {
        try
        {
            End(context).Dispose();
        }
        catch (WorldPMException)
        {
        }
    }
}
