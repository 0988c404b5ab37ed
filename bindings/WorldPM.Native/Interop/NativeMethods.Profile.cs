using System.Runtime.InteropServices;

namespace WorldPM.Native.Interop;

/// <summary>The emu backend's work counters per kernel (ABI 0.5).</summary>
internal static unsafe partial class NativeMethods
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_kernel_profile
    {
        public nuint struct_size;
        public fixed byte kernel[64];
        public ulong launches;
        public ulong bytes_read;
        public ulong bytes_written;
        public ulong shared_bytes_read;
        public ulong shared_bytes_written;
        public ulong min_bytes;
        public ulong mma_instructions;
        public ulong mma_flops;
        public ulong other_flops;
        public int bytes_counted;
    }

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_context_profile(nint context, int enable);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_context_profile_kernels(nint context, wpm_kernel_profile* kernels,
        nuint capacity, nuint* count);
}
