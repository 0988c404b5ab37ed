using System.Text.Json;

namespace WorldPM.Data;

/// <summary>
/// Walks the JSON objects of a file, JSON Lines or one JSON array, handing each to a callback with
/// its location. Lines that are not JSON objects, and records the callback rejects with a
/// <see cref="BadRecordException"/>, are reported to the collector.
/// </summary>
internal static class JsonRecords
{
    public static void ForEach(DataSource source, PairCollector collector, Action<JsonElement, RecordLocation> read)
    {
        if (IsArray(source))
        {
            ForEachInArray(source, collector, read);
        }
        else
        {
            ForEachLine(source, collector, read);
        }
    }

    /// <summary>Whether the content's first non-whitespace character opens a JSON array.</summary>
    public static bool IsArray(DataSource source) => source.TextHead().StartsWith('[');

    /// <summary>The first record that parses as a JSON object among the first few, for format detection.</summary>
    public static JsonElement? First(DataSource source)
    {
        var probe = new PairCollector(new DataLoadOptions { LenientUtf8 = true });  // detection only looks at field names
        JsonElement? first = null;
        try
        {
            ForEach(source, probe, (record, _) =>
            {
                first = record.Clone();
                throw new StopReading();
            });
        }
        catch (StopReading)
        {
        }
        return first;
    }

    private static void ForEachLine(DataSource source, PairCollector collector, Action<JsonElement, RecordLocation> read)
    {
        using var stream = source.OpenRead();
        var lines = new ByteLines(stream);
        for (int number = 1; lines.Next(out ReadOnlyMemory<byte> bytes); number++)
        {
            if (number == 1 && bytes.Span.StartsWith(Utf8Bom)) bytes = bytes[Utf8Bom.Length..];
            if (IsBlank(bytes.Span)) continue;
            if (Utf8Text.Decode(bytes.Span, collector.Options.LenientUtf8, out string? replaced) is { } invalid)
            {
                collector.Bad(source.At(number), invalid);
                continue;
            }
            ReadOne(source.At(number), collector, read,
                () => replaced is null ? JsonDocument.Parse(bytes) : JsonDocument.Parse(replaced));
        }
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private static bool IsBlank(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept(" \t\r"u8) < 0;

    private static void ForEachInArray(DataSource source, PairCollector collector, Action<JsonElement, RecordLocation> read)
    {
        byte[] bytes;
        using (var stream = source.OpenRead())
        using (var buffer = new MemoryStream())
        {
            stream.CopyTo(buffer);
            bytes = buffer.ToArray();
        }
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        var lines = new LineCounter(bytes);
        try
        {
            reader.Read();
            var record = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                long start = reader.TokenStartIndex;
                var at = source.At(lines.LineAt(start), ++record);
                var document = JsonDocument.ParseValue(ref reader);
                var span = bytes.AsSpan((int)start, (int)(reader.BytesConsumed - start));
                if (Utf8Text.Decode(span, collector.Options.LenientUtf8, out string? replaced) is { } invalid)
                {
                    document.Dispose();
                    collector.Bad(at, invalid);
                    continue;
                }
                if (replaced is not null)
                {
                    document.Dispose();
                    document = JsonDocument.Parse(replaced);
                }
                ReadOne(at, collector, read, () => document);
            }
        }
        catch (JsonException e)
        {
            collector.Bad(source.At(lines.LineAt(reader.TokenStartIndex)), $"invalid JSON, rest of file not read: {e.Message}");
        }
    }

    private static void ReadOne(RecordLocation at, PairCollector collector, Action<JsonElement, RecordLocation> read, Func<JsonDocument> parse)
    {
        JsonDocument document;
        try
        {
            document = parse();
        }
        catch (JsonException e)
        {
            collector.Bad(at, $"invalid JSON: {e.Message}");
            return;
        }
        using (document)
        {
            try
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new BadRecordException($"record should be a JSON object, not {JsonFields.Describe(document.RootElement)}");
                }
                read(document.RootElement, at);
            }
            catch (BadRecordException e)
            {
                collector.Bad(at, e.Message);
            }
        }
    }

    private sealed class StopReading : Exception;

    /// <summary>Maps byte offsets to 1-based line numbers, scanning forward only.</summary>
    private sealed class LineCounter(byte[] bytes)
    {
        private long _offset;
        private int _line = 1;

        public int LineAt(long offset)
        {
            for (; _offset < offset && _offset < bytes.Length; _offset++)
            {
                if (bytes[_offset] == (byte)'\n')
                {
                    _line++;
                }
            }
            return _line;
        }
    }
}
