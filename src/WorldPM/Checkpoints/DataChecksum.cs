using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace WorldPM.Checkpoints;

/// <summary>
/// SHA-256 of a safetensors data section, kept in the header's metadata under <see cref="MetadataKey"/>
/// as 64 lowercase hex digits. WorldPM writes it into every file; reading verifies it when present, so a
/// flipped bit on disk is an error instead of a silently wrong model. Files from elsewhere, without the
/// key, load unverified. The header itself is not covered (it is checked structurally by the parser;
/// a flipped byte there almost always breaks the JSON or the offsets).
/// </summary>
public static class DataChecksum
{
    /// <summary>The metadata key of the checksum.</summary>
    public const string MetadataKey = "worldpm.sha256";

    /// <summary>Length of the checksum's text: 64 hex digits.</summary>
    internal const int HexLength = 64;

    /// <summary>
    /// Hashes bytes [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) of an open
    /// file and throws a <see cref="CheckpointFormatException"/> when they do not hash to <paramref name="expected"/>.
    /// </summary>
    internal static void Verify(SafeFileHandle file, long start, long length, string expected, string path)
    {
        if (expected.Length != HexLength || !expected.All(Uri.IsHexDigit))
            throw new CheckpointFormatException(path, $"metadata {MetadataKey} is \"{expected}\", not 64 hex digits");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (long done = 0; done < length;)
            {
                int want = (int)Math.Min(buffer.Length, length - done);
                FileRead.Exactly(file, buffer.AsSpan(0, want), start + done, path);
                hash.AppendData(buffer, 0, want);
                done += want;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!actual.Equals(expected, StringComparison.OrdinalIgnoreCase))
            throw new CheckpointFormatException(path,
                $"checksum mismatch: the data section hashes to sha256 {actual} but the header records {expected}; the file is corrupted");
    }
}
