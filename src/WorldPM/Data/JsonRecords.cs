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

    /// <summary>An element of an array is parsed as the array was read: comments skipped.</summary>
    private static readonly JsonDocumentOptions ArrayElement = new() { CommentHandling = JsonCommentHandling.Skip };

    /// <summary>Bytes of the array reader's first buffer; it doubles while one element does not fit.</summary>
    private const int ArrayBufferBytes = 1 << 16;

    /// <summary>
    /// The elements of a top-level JSON array one at a time, from a buffer that holds the element being read and what
    /// the stream gave after it (refilled from the stream as elements are consumed, doubled only while one element
    /// is larger), so that memory follows the largest element, not the file.
    /// </summary>
    private static void ForEachInArray(DataSource source, PairCollector collector, Action<JsonElement, RecordLocation> read)
    {
        using var stream = source.OpenRead();
        var buffer = new byte[ArrayBufferBytes];
        int start = 0, filled = 0, counted = 0, line = 1, record = 0;
        bool final = false, opened = false;
        var state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        // Moves the unread bytes to the front (growing the buffer when they fill it) and reads more after them.
        void Fill()
        {
            if (start == 0 && filled == buffer.Length) Array.Resize(ref buffer, checked(buffer.Length * 2));
            else if (start > 0)
            {
                LineAt(start);  // count the lines of the bytes about to go
                buffer.AsSpan(start, filled - start).CopyTo(buffer);
                (filled, counted, start) = (filled - start, counted - start, 0);
            }
            int got = stream.ReadAtLeast(buffer.AsSpan(filled), buffer.Length - filled, throwOnEndOfStream: false);
            filled += got;
            final = filled < buffer.Length;
        }
        // The line of the byte at buffer index `at`, counting newlines forward from the last count.
        int LineAt(int at)
        {
            line += buffer.AsSpan(counted, Math.Max(0, at - counted)).Count((byte)'\n');
            counted = Math.Max(counted, at);
            return line;
        }
        Fill();
        while (true)
        {
            var reader = new Utf8JsonReader(buffer.AsSpan(start, filled - start), final, state);
            int elementStart = start;
            JsonTokenType token = JsonTokenType.None;
            try
            {
                bool gotToken = reader.Read();
                // Skipping a container moves the reader to its end: where it starts and what it is are taken first.
                (elementStart, token) = (start + (int)reader.TokenStartIndex, reader.TokenType);
                if (!gotToken || (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && opened && !reader.TrySkip()))
                {
                    if (final) return;  // only whitespace or comments after the last token
                    Fill();
                    continue;
                }
            }
            catch (JsonException e)
            {
                collector.Bad(source.At(LineAt(start + (int)reader.TokenStartIndex)), $"invalid JSON, rest of file not read: {e.Message}");
                return;
            }
            int elementEnd = start + (int)reader.BytesConsumed;
            (state, start) = (reader.CurrentState, elementEnd);
            if (!opened)
            {
                opened = true;  // the array's '[' (IsArray told it is one)
                continue;
            }
            if (token == JsonTokenType.EndArray) return;
            var at = source.At(LineAt(elementStart), ++record);
            ReadOnlyMemory<byte> element = buffer.AsMemory(elementStart, elementEnd - elementStart);
            if (Utf8Text.Decode(element.Span, collector.Options.LenientUtf8, out string? replaced) is { } invalid)
            {
                collector.Bad(at, invalid);
                continue;
            }
            ReadOne(at, collector, read, () => replaced is null ? JsonDocument.Parse(element, ArrayElement) : JsonDocument.Parse(replaced, ArrayElement));
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
}
