using System.Collections;
using System.Globalization;
using Parquet;
using Parquet.Serialization;

namespace WorldPM.Data;

/// <summary>
/// A Parquet table of pairs, columns named by <see cref="DataLoadOptions.Columns"/>. Prompt, chosen
/// and rejected are strings (the prompt may also be a list of {role, content} structs); subset is a
/// string and weight a number. Rows are numbered from 1 in the locations. Read one row group at a time, so memory
/// follows the largest row group, not the file.
/// </summary>
internal sealed class ParquetPairReader : IPairReader
{
    public void Read(DataSource source, PairCollector collector)
    {
        var columns = collector.Options.Columns;
        using Stream file = Seekable(source);
        if (Damage(file) is { } damage)
            throw new DataFormatException(source.At(), $"not a readable Parquet file: {damage}");
        int groups = Library(source, () => RowGroups(file));
        int row = 0;
        // Row group by row group: one group's rows are in memory at a time. A file without groups still has a schema.
        for (int group = 0; group < Math.Max(1, groups); group++)
        {
            var table = Library(source, () => ParquetSerializer.DeserializeUntypedAsync(file, null, groups == 0 ? null : group).GetAwaiter().GetResult());
            if (group == 0 && MissingColumns(table, columns) is { } missing)
            {
                collector.Bad(source.At(), missing);
                return;
            }
            foreach (var values in table.Data)
            {
                var at = source.At(record: ++row);
                try
                {
                    collector.Add(at, Prompt(Value(values, columns.Prompt)), Text(Value(values, columns.Chosen), columns.Chosen), Text(Value(values, columns.Rejected), columns.Rejected),
                        Weight(Value(values, columns.Weight), columns.Weight), Value(values, columns.Subset) is { } subset ? Text(subset, columns.Subset!) : null);
                }
                catch (BadRecordException e)
                {
                    collector.Bad(at, e.Message);
                }
            }
        }
    }

    /// <summary>What a table lacks of the prompt, chosen and rejected columns, as a bad record's reason, or null.</summary>
    private static string? MissingColumns(DeserializationResult<Dictionary<string, object>> table, ColumnMapping columns)
    {
        var names = table.Schema.GetDataFields().Select(field => field.Path.ToString()).Concat(table.Schema.Fields.Select(field => field.Name)).ToHashSet();
        var missing = new[] { columns.Prompt, columns.Chosen, columns.Rejected }.Where(name => !names.Contains(name)).ToList();
        return missing.Count == 0 ? null
            : $"no column {string.Join(", ", missing.Select(name => $"\"{name}\""))}; columns: {string.Join(", ", table.Schema.Fields.Select(field => field.Name))}";
    }

    private static int RowGroups(Stream file)
    {
        ParquetReader reader = ParquetReader.CreateAsync(file, null, leaveStreamOpen: true).GetAwaiter().GetResult();
        try
        {
            return reader.RowGroupCount;
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            file.Position = 0;
        }
    }

    /// <summary>The file itself when it can seek (Parquet is read from its footer back), else (gzip) its content
    /// unpacked into a scratch file beside the system's temp files, deleted when closed.</summary>
    private static Stream Seekable(DataSource source)
    {
        Stream content = source.OpenRead();
        if (content.CanSeek) return content;
        using (content)
        {
            var scratch = ScratchFile.Create(folder: null, "parquet");
            content.CopyTo(scratch);
            scratch.Position = 0;
            return scratch;
        }
    }

    /// <summary>
    /// What the Parquet library returns for the file, its failures a <see cref="DataFormatException"/> naming the file.
    /// Only the library runs in <paramref name="call"/>, and on damaged metadata it fails with whatever its code meets
    /// first (a NullReferenceException for a column chunk without metadata, index and cast errors, its Thrift errors):
    /// any of them means the file cannot be read. Running out of memory is not about the file, so it escapes.
    /// </summary>
    private static T Library<T>(DataSource source, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DataFormatException(source.At(), $"not a readable Parquet file: {e.Message}");
        }
    }

    /// <summary>
    /// What is wrong with the frame every Parquet file has (PAR1, the data, the footer, its 4-byte length, PAR1) or
    /// with the footer's encoding, or null: checked before the reader runs, whose own failures on a damaged frame name
    /// stream positions, not the file, and which does not stop on a footer cut inside a value. Reads the two ends of
    /// the file and the footer only.
    /// </summary>
    private static string? Damage(Stream file)
    {
        ReadOnlySpan<byte> magic = "PAR1"u8;
        const int frame = 12;  // both magics and the footer length
        long length = file.Length;
        if (length < frame)
            return $"{length} bytes is shorter than the smallest Parquet file ({frame})";
        byte[] head = ReadAt(file, 0, 4), tail = ReadAt(file, length - 8, 8);
        if (!head.AsSpan().SequenceEqual(magic) || !tail.AsSpan(4).SequenceEqual(magic))
            return "a Parquet file begins and ends with the bytes PAR1, and this one does not (truncated, or another format)";
        uint footer = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(tail);
        if (footer > length - frame)
            return $"its footer length ({footer} bytes) exceeds the file ({length} bytes): the file is damaged";
        return ThriftCompactShape.Problem(ReadAt(file, length - 8 - footer, (int)footer)) is { } problem
            ? $"its footer is damaged: {problem}"
            : null;
    }

    private static byte[] ReadAt(Stream file, long at, int count)
    {
        var bytes = new byte[count];
        file.Position = at;
        file.ReadExactly(bytes);
        file.Position = 0;
        return bytes;
    }

    private static object? Value(Dictionary<string, object> row, string? column) =>
        column is not null && row.TryGetValue(column, out var value) ? value : null;

    private static string Text(object? value, string column) => value switch
    {
        string text => text,
        null => throw new BadRecordException($"missing value in column \"{column}\""),
        _ => throw new BadRecordException($"column \"{column}\" should hold strings, not {value.GetType().Name}"),
    };

    private static IReadOnlyList<ChatTurn> Prompt(object? value) => value switch
    {
        string text => [new ChatTurn(ChatRole.User, text)],
        IEnumerable messages and not IDictionary => messages.Cast<object>().Select(Turn).ToList(),
        _ => throw new BadRecordException($"prompt should be a string or a list of messages, not {value?.GetType().Name ?? "null"}"),
    };

    private static ChatTurn Turn(object message) => message is IDictionary<string, object> fields
        && fields.TryGetValue("role", out var role) && role is string roleName
        && fields.TryGetValue("content", out var content) && content is string text
            ? new ChatTurn(ChatMessages.Role(roleName), text)
            : throw new BadRecordException("prompt messages should have string \"role\" and \"content\"");

    private static double Weight(object? value, string? column) => value switch
    {
        null => 1.0,
        string => throw new BadRecordException($"column \"{column}\" should hold numbers, not strings"),
        IConvertible number => number.ToDouble(CultureInfo.InvariantCulture),
        _ => throw new BadRecordException($"column \"{column}\" should hold numbers, not {value.GetType().Name}"),
    };
}
