using System.Buffers.Binary;
using System.Text;

namespace WorldPM.Data;

/// <summary>
/// Texts parked in a temporary file while a reader indexes the rest of its input, each read back by the offset it was
/// written at: what lets the StackExchange reader group answers by question without holding their text. The file is a
/// <see cref="ScratchFile"/> in <paramref name="folder"/> (the system temp folder when null), deleted when closed.
/// </summary>
internal sealed class PostTextSpill(string? folder = null) : IDisposable
{
    private readonly FileStream _file = ScratchFile.Create(folder, "posts");

    private long _end;

    /// <summary>Appends <paramref name="text"/> and returns where to <see cref="Read"/> it from.</summary>
    public long Write(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        long at = _end;
        _file.Position = at;
        _file.Write(length);
        _file.Write(bytes);
        _end = _file.Position;
        return at;
    }

    /// <summary>The text written at <paramref name="at"/>.</summary>
    public string Read(long at)
    {
        _file.Position = at;
        Span<byte> length = stackalloc byte[4];
        _file.ReadExactly(length);
        var bytes = new byte[BinaryPrimitives.ReadInt32LittleEndian(length)];
        _file.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    public void Dispose() => _file.Dispose();
}
