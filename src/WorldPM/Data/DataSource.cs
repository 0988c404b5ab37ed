using System.Text;

namespace WorldPM.Data;

/// <summary>
/// One data file to read: its path, the directory a directory load started from, and its bytes,
/// gunzipped transparently when they start with the gzip magic (whatever the extension).
/// </summary>
internal sealed class DataSource(string path, string? root = null)
{
    private static readonly byte[] GzipMagic = [0x1f, 0x8b];

    private FileStream? _opened;

    public string Path => path;

    /// <summary>The directory given to a directory load, or null for a single file.</summary>
    public string? Root => root;

    /// <summary>How far the last opened read has come in the file (compressed bytes for gzip), for progress; 0 once closed.</summary>
    public long BytesRead => _opened is { CanSeek: true } file ? file.Position : 0;

    public RecordLocation At(int? line = null, int? record = null) => new(path, line, record);

    /// <summary>The file's content, decompressed if it is gzip (reading past the end of a cut gzip file throws).</summary>
    public Stream OpenRead()
    {
        var file = OpenFile();
        _opened = file;
        return StartsWith(file, GzipMagic) ? new GzipLengthCheck(file, path) : file;
    }

    public TextReader OpenText() => new StreamReader(OpenRead(), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);

    /// <summary>The start of the (decompressed) content as text, leading whitespace and BOM removed, for format detection.</summary>
    public string TextHead(int bytes = 4096)
    {
        using var stream = OpenRead();
        var buffer = new byte[bytes];
        var read = stream.ReadAtLeast(buffer, bytes, throwOnEndOfStream: false);
        return Encoding.UTF8.GetString(buffer, 0, read).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
    }

    private FileStream OpenFile()
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"Preference data file not found: '{path}'.", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Cannot read preference data file '{path}': {e.Message}", e);
        }
    }

    private static bool StartsWith(FileStream file, byte[] magic)
    {
        var head = new byte[magic.Length];
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        file.Position = 0;
        return read == magic.Length && head.AsSpan().SequenceEqual(magic);
    }
}
