using System.Runtime.InteropServices;

namespace WorldPM.Native.Interop;

// The raw C ABI of native/include/worldpm.h, one partial file per area of the header.
// Names, parameter order and struct layouts are the header's, character for character,
// so the two can be compared line by line (and a test does). Handles are nint, pointers
// are pointers; nothing here owns anything: the public types above this layer do.

/// <summary>Library-level functions: version, errors, backends.</summary>
internal static unsafe partial class NativeMethods
{
    /// <summary>The name every declaration imports; <see cref="NativeLibraryResolver"/> maps it to a file.</summary>
    internal const string Library = "worldpm";

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_backend_info
    {
        public nuint struct_size;
        public int built;
        public int available;
        public int device_count;
        public fixed byte reason[256];
    }

    [LibraryImport(Library)]
    internal static partial uint wpm_version();

    [LibraryImport(Library)]
    internal static partial byte* wpm_version_string();

    [LibraryImport(Library)]
    internal static partial byte* wpm_last_error();

    [LibraryImport(Library)]
    internal static partial byte* wpm_last_error_argument();

    [LibraryImport(Library)]
    internal static partial byte* wpm_status_name(WorldPMStatus status);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_backend_query(Backend backend, wpm_backend_info* info);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_cpu_features(byte** features);
}
