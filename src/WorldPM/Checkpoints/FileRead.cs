using Microsoft.Win32.SafeHandles;

namespace WorldPM.Checkpoints;

/// <summary>Positional reads that fill the whole buffer or say the file ended early.</summary>
internal static class FileRead
{
    public static void Exactly(SafeFileHandle file, Span<byte> buffer, long offset, string path)
    {
        while (!buffer.IsEmpty)
        {
            int read = RandomAccess.Read(file, buffer, offset);
            if (read == 0)
                throw new CheckpointFormatException(path, $"the file ends at byte {offset}, before the data it declares (truncated while open?)");
            buffer = buffer[read..];
            offset += read;
        }
    }
}
