using System.Runtime.InteropServices;

namespace WorldPM.Native.Interop;

/// <summary>Contexts: create with a backend, destroy, query, synchronize.</summary>
internal static unsafe partial class NativeMethods
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_context_options
    {
        public nuint struct_size;
        public Backend backend;
        public int num_threads;
        public int device;
        public nint stream; // cudaStream_t (ABI 0.2)
    }

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_context_create(wpm_context_options* options, nint* context);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_context_destroy(nint context);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_context_backend(nint context, Backend* backend);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_context_num_threads(nint context, int* num_threads);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_synchronize(nint context);

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_device_counters
    {
        public nuint struct_size;
        public ulong host_waits;
        public ulong d2h_copies;
        public ulong h2d_copies;
        public ulong launches;
        public ulong gemms;
    }

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_context_device_counters(nint context, wpm_device_counters* counters);
}
