using System.IO.MemoryMappedFiles;

namespace WorldPM.Checkpoints;

/// <summary>
/// Reads a byte range of a memory-mapped file window by window: each window is mapped, handed over as a span of
/// the mapping itself (the page cache, no copy), and unmapped before the next. A window's pages count towards the
/// process's resident memory only while it is mapped, so reading a range of any size holds at most one window.
/// </summary>
internal static class MappedWindows
{
    /// <summary>Bytes mapped at a time: a multiple of every element size and of the page size.</summary>
    public const int WindowBytes = 64 << 20;

    /// <summary>
    /// Calls <paramref name="visit"/> with (offset from <paramref name="start"/>, bytes) for consecutive windows of
    /// bytes [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) of the file.
    /// </summary>
    public static unsafe void Visit(MemoryMappedFile file, long start, long length, Action<long, ReadOnlySpan<byte>> visit)
    {
        for (long done = 0; done < length;)
        {
            int size = (int)Math.Min(WindowBytes, length - done);
            using (MemoryMappedViewAccessor view = file.CreateViewAccessor(start + done, size, MemoryMappedFileAccess.Read))
            {
                byte* pointer = null;
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                try
                {
                    // The view begins at the page holding the offset; PointerOffset is how far into that page it is.
                    visit(done, new ReadOnlySpan<byte>(pointer + view.PointerOffset, size));
                }
                finally
                {
                    view.SafeMemoryMappedViewHandle.ReleasePointer();
                }
            }
            done += size;
        }
    }
}
