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
        var probe = new PairCollector(new DataLoadOptions());
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
        using var text = source.OpenText();
        var number = 0;
        while (text.ReadLine() is { } line)
        {
            number++;
            if (!string.IsNullOrWhiteSpace(line))
            {
                ReadOne(source.At(number), collector, read, () => JsonDocument.Parse(line));
            }
        }
    }

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
                var at = source.At(lines.LineAt(reader.TokenStartIndex), ++record);
                var document = JsonDocument.ParseValue(ref reader);
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
