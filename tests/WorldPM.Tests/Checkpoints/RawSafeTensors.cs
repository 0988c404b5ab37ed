using System.Buffers.Binary;
using System.Text;

namespace WorldPM.Tests.Checkpoints;

/// <summary>
/// Builds safetensors bytes by hand (length prefix, header text, data), independently of the writer
/// under test, so the reader is checked against the format itself.
/// </summary>
internal static class RawSafeTensors
{
    /// <summary>The file bytes; the header is padded with spaces to <paramref name="align"/> bytes as Hugging Face does.</summary>
    public static byte[] Build(string headerJson, byte[] data, int align = 8, ulong? declaredHeaderLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson).ToList();
        while (header.Count % align != 0) header.Add((byte)' ');
        var file = new byte[8 + header.Count + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, declaredHeaderLength ?? (ulong)header.Count);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Count);
        return file;
    }

    /// <summary>Writes <see cref="Build"/>'s bytes to <paramref name="path"/> and returns the path.</summary>
    public static string Write(string path, string headerJson, byte[] data, int align = 8, ulong? declaredHeaderLength = null)
    {
        File.WriteAllBytes(path, Build(headerJson, data, align, declaredHeaderLength));
        return path;
    }
}
