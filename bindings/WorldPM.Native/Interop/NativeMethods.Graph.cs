using System.Runtime.InteropServices;

namespace WorldPM.Native.Interop;

/// <summary>Graph capture and replay on the device backends (ABI 0.6).</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_graph_capture_begin(nint context);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_graph_capture_end(nint context, nint* graph);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_graph_launch(nint context, nint graph);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_graph_destroy(nint graph);
}
