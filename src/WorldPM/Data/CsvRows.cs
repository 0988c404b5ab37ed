using System.Buffers;
using System.Text;

namespace WorldPM.Data;

/// <summary>
/// The rows of a CSV stream (RFC 4180), read one at a time: fields separated by commas; a field in double quotes may
/// hold commas, line breaks and quotes written twice (<c>"say ""hi"""</c>); rows end with LF or CRLF. A row's start
/// line is its 1-based line in the file, whatever multi-line fields came before it. Line breaks inside a quoted field
/// are kept as written. Blank lines between rows are skipped. A row that breaks the quoting rules, or holds bytes
/// that are not UTF-8 (unless lenient, see <see cref="Utf8Text"/>), comes back with the problem instead of fields,
/// and reading goes on with the next row.
/// </summary>
internal sealed class CsvRows(Stream stream, bool lenientUtf8)
{
    /// <summary>One row: where it starts, and its fields or what is wrong with it.</summary>
    public readonly record struct Row(int Line, IReadOnlyList<string>? Fields, string? Problem);

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    public IEnumerable<Row> Read()
    {
        var lines = new ByteLines(stream);
        var row = new ArrayBufferWriter<byte>();
        int start = 0, quotes = 0;
        for (int number = 1; lines.Next(out ReadOnlyMemory<byte> line); number++)
        {
            if (number == 1 && line.Span.StartsWith(Utf8Bom)) line = line[Utf8Bom.Length..];
            if (start == 0)
            {
                if (line.Span.IndexOfAnyExcept(" \t\r"u8) < 0) continue;
                start = number;
                row.ResetWrittenCount();
            }
            else
            {
                row.Write("\n"u8);  // the line break inside a quoted field that the line reader took off
            }
            row.Write(line.Span);
            // Quotes come in pairs outside a quoted field ("" inside one is two), so an odd count means one is open.
            quotes += line.Span.Count((byte)'"');
            if (quotes % 2 == 0)
            {
                yield return Parse(row.WrittenSpan, start);
                start = 0;
                quotes = 0;
            }
        }
        if (start != 0)
        {
            yield return new Row(start, null, "a quoted field opened in this row is never closed (the rest of the file is inside it)");
        }
    }

    private Row Parse(ReadOnlySpan<byte> bytes, int line)
    {
        if (bytes.EndsWith("\r"u8)) bytes = bytes[..^1];
        if (Utf8Text.Decode(bytes, lenientUtf8, out string? replaced) is { } invalid)
        {
            return new Row(line, null, invalid);
        }
        var text = replaced ?? Encoding.UTF8.GetString(bytes);
        var fields = new List<string>();
        var problem = Split(text, fields);
        return problem is null ? new Row(line, fields, null) : new Row(line, null, problem);
    }

    /// <summary>Splits one row's text into <paramref name="fields"/>; returns what breaks the quoting rules, or null.</summary>
    private static string? Split(string text, List<string> fields)
    {
        var quoted = new StringBuilder();
        int at = 0;
        while (true)
        {
            int number = fields.Count + 1;
            if (at < text.Length && text[at] == '"')
            {
                quoted.Clear();
                at++;
                while (true)
                {
                    int quote = text.IndexOf('"', at);
                    if (quote < 0) return $"field {number}: its opening quote is never closed";
                    quoted.Append(text, at, quote - at);
                    at = quote + 1;
                    if (at < text.Length && text[at] == '"')
                    {
                        quoted.Append('"');
                        at++;
                        continue;
                    }
                    break;
                }
                fields.Add(quoted.ToString());
                if (at == text.Length) return null;
                if (text[at] != ',') return $"field {number}: text after its closing quote (a quote inside a quoted field is written twice)";
                at++;
            }
            else
            {
                int comma = text.IndexOf(',', at);
                int end = comma < 0 ? text.Length : comma;
                if (text.AsSpan(at, end - at).Contains('"'))
                {
                    return $"field {number}: a quote inside an unquoted field (quote the whole field and write its quotes twice)";
                }
                fields.Add(text[at..end]);
                if (comma < 0) return null;
                at = comma + 1;
            }
        }
    }
}
