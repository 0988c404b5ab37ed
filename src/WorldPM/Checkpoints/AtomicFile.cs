using System.Text;

namespace WorldPM.Checkpoints;

/// <summary>
/// Replaces a file so that, whatever happens, the path holds either the complete old content or the
/// complete new content, never a torn mix; this is what keeps a crash mid-save from destroying the
/// last good checkpoint.
/// </summary>
/// <remarks>
/// The protocol, the one databases and git use:
/// <list type="number">
/// <item>write the new content to a temp file in the same directory (same file system, so the rename
/// below is atomic), named <c>.&lt;name&gt;.worldpm-&lt;random&gt;.tmp</c>: hidden, and never a name a loader opens;</item>
/// <item><c>fsync</c> the temp file (<see cref="FileStream.Flush(bool)"/> with <c>true</c> calls it), so
/// its data is on disk before any name points at it; without this a crash after the rename can leave
/// the new name on a zero-length or partly written file (ext4 delayed allocation);</item>
/// <item><c>rename</c> it over the target (<see cref="File.Move(string, string, bool)"/>): atomic on POSIX;</item>
/// <item><c>fsync</c> the directory (<see cref="DirectorySync"/>), so the rename itself survives a power loss.</item>
/// </list>
/// A failure before the rename deletes the temp file and leaves the target untouched. A process killed
/// before the rename leaves an orphaned temp file: loaders never look at it, and the next write of the
/// same target deletes it. One writer per target at a time.
/// </remarks>
public static class AtomicFile
{
    private const string TempMarker = ".worldpm-";
    private const string TempSuffix = ".tmp";

    /// <summary>Replaces <paramref name="path"/> atomically with what <paramref name="write"/> writes to the stream it is given.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string target = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(target)!;
        string name = System.IO.Path.GetFileName(target);
        Directory.CreateDirectory(directory);
        RemoveOrphans(directory, name);

        string temp = System.IO.Path.Combine(directory, $".{name}{TempMarker}{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        DirectorySync.Flush(directory);
    }

    /// <summary>Replaces <paramref name="path"/> atomically with <paramref name="text"/> in UTF-8 (no byte-order mark).</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, stream => stream.Write(new UTF8Encoding(false).GetBytes(text)));

    /// <summary>Whether <paramref name="fileName"/> is one of this class's temp files (a write in progress or an orphan).</summary>
    public static bool IsTempFile(string fileName) =>
        fileName.StartsWith('.') && fileName.Contains(TempMarker, StringComparison.Ordinal) && fileName.EndsWith(TempSuffix, StringComparison.Ordinal);

    private static void RemoveOrphans(string directory, string name)
    {
        foreach (var orphan in Directory.EnumerateFiles(directory, $".{name}{TempMarker}*{TempSuffix}"))
            TryDelete(orphan);
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
