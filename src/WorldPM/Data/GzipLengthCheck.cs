using System.Buffers.Binary;
using System.IO.Compression;

namespace WorldPM.Data;

/// <summary>
/// A gzip file's decompressed content that fails at its end when the file was cut short. .NET's inflater ends
/// quietly when its input runs out, so a truncated download would read as a shorter file; every gzip member ends
/// with the uncompressed length modulo 2^32 (RFC 1952's ISIZE), and a cut file ends with compressed bytes instead,
/// which match the count read with a chance of 2^-32. Files of several concatenated members are checked against
/// the last member's length, so they read as damaged: recompress them as one.
/// </summary>
internal sealed class GzipLengthCheck : Stream
{
    private const int TrailerBytes = 8;  // CRC-32, then ISIZE, both little-endian
    private const int SmallestMember = 18;  // 10-byte header, an empty deflate block's 2 bytes, the trailer

    private readonly GZipStream _inner;
    private readonly string _path;
    private readonly long _fileBytes;
    private readonly uint? _recordedLength;
    private long _read;
    private bool _checked;

    public GzipLengthCheck(FileStream file, string path)
    {
        _path = path;
        _fileBytes = file.Length;
        if (_fileBytes >= SmallestMember)
        {
            var trailer = new byte[TrailerBytes];
            file.Seek(-TrailerBytes, SeekOrigin.End);
            file.ReadExactly(trailer);
            file.Position = 0;
            _recordedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer.AsSpan(4));
        }
        _inner = new GZipStream(file, CompressionMode.Decompress);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = _inner.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{_path}' is not a readable gzip file: {e.Message}", e);
        }
        _read += n;
        if (n == 0 && buffer.Length > 0) CheckLength();
        return n;
    }

    private void CheckLength()
    {
        if (_checked) return;
        _checked = true;
        if (_recordedLength is not { } recorded)
            throw new InvalidDataException($"'{_path}' is truncated: {_fileBytes} bytes is shorter than any complete gzip file");
        if ((uint)_read != recorded)
            throw new InvalidDataException($"'{_path}' is truncated or damaged: it decompressed to {_read} bytes, and its gzip " +
                $"trailer records {recorded} (mod 2^32); download it again (a file of several gzip members must be recompressed as one)");
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}
