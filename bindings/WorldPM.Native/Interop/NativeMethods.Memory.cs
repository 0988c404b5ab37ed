using System.Runtime.InteropServices;

namespace WorldPM.Native.Interop;

/// <summary>Buffers: allocation, wrapping caller-owned memory, views, host copies, fills.</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library)]
    internal static partial nuint wpm_dtype_size(DType dtype);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_alloc(nint context, DType dtype, nuint count, nint* buffer);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_wrap(nint context, DType dtype, void* pointer, nuint count, nint* buffer);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_device_pointer(nint buffer, void** pointer);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_view(nint parent, nuint offset, nuint count, nint* view);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_free(nint buffer);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_info(nint buffer, DType* dtype, nuint* count);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_write(nint buffer, nuint offset, void* host, nuint count);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_read(nint buffer, nuint offset, void* host, nuint count);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_copy(nint dst, nint src);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_buffer_fill(nint buffer, double value);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_fill_uniform(nint buffer, ulong seed, float low, float high);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_fill_normal(nint buffer, ulong seed, float mean, float stddev);
}
