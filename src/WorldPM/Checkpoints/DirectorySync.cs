using System.Runtime.InteropServices;

namespace WorldPM.Checkpoints;

/// <summary>
/// <c>fsync</c> of a directory, which makes the creations, renames and deletions inside it durable.
/// .NET has no API for it (a <see cref="FileStream"/> cannot open a directory), so on Linux and macOS
/// this opens the directory read-only with libc's <c>open</c> and calls <c>fsync</c> on the descriptor.
/// </summary>
/// <remarks>
/// Best effort where durability cannot be had: on Windows it does nothing (NTFS journals the rename
/// and there is no directory fsync), and a directory that cannot be opened or a file system that
/// refuses directory fsync (EINVAL) is skipped: the rename is still atomic, only its durability across
/// a power loss is then up to the file system. A real I/O error (EIO) from fsync is thrown.
/// Classic <c>DllImport</c> rather than <c>LibraryImport</c>: the generated marshalling of the path
/// needs unsafe code, which three libc calls do not justify.
/// </remarks>
internal static class DirectorySync
{
    private const int ReadOnly = 0;
    private const int InvalidArgument = 22;

    /// <summary>Flushes <paramref name="directory"/>'s entries to disk; false when that could not be done here (see remarks).</summary>
    public static bool Flush(string directory)
    {
        if (OperatingSystem.IsWindows()) return false;
        int fd;
        try
        {
            fd = Open(directory, ReadOnly);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        if (fd < 0) return false;
        try
        {
            if (FSync(fd) == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != InvalidArgument)
                throw new IOException($"fsync of directory {directory} failed with errno {errno}; the last rename in it may not be durable");
            return false;
        }
        finally
        {
            Close(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int FSync(int fd);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
