namespace WorldPM.Data;

/// <summary>
/// The temporary files the data readers and the store writer park bytes in: hidden, named for their use and a random
/// part, and deleted when closed, on success, failure or exception alike (and by the system when the process dies, as
/// the file is opened delete-on-close).
/// </summary>
internal static class ScratchFile
{
    /// <summary>A new empty scratch file <c>.worldpm-USE-RANDOM.tmp</c> in <paramref name="folder"/> (the system temp
    /// folder when null), open for reading and writing through a buffer of <paramref name="bufferBytes"/>.</summary>
    public static FileStream Create(string? folder, string use, int bufferBytes = 1 << 16) =>
        new(Path.Combine(folder ?? Path.GetTempPath(), $".worldpm-{use}-{Guid.NewGuid():N}.tmp"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, bufferBytes, FileOptions.DeleteOnClose);
}
