using System.Collections;
using System.Globalization;
using Parquet.Serialization;

namespace WorldPM.Data;

/// <summary>
/// A Parquet table of pairs, columns named by <see cref="DataLoadOptions.Columns"/>. Prompt, chosen
/// and rejected are strings (the prompt may also be a list of {role, content} structs); subset is a
/// string and weight a number. Rows are numbered from 1 in the locations.
/// </summary>
internal sealed class ParquetPairReader : IPairReader
{
    public void Read(DataSource source, PairCollector collector)
    {
        var columns = collector.Options.Columns;
        var table = Load(source);
        var names = table.Schema.GetDataFields().Select(field => field.Path.ToString()).Concat(table.Schema.Fields.Select(field => field.Name)).ToHashSet();
        var missing = new[] { columns.Prompt, columns.Chosen, columns.Rejected }.Where(name => !names.Contains(name)).ToList();
        if (missing.Count > 0)
        {
            collector.Bad(source.At(), $"no column {string.Join(", ", missing.Select(name => $"\"{name}\""))}; columns: {string.Join(", ", table.Schema.Fields.Select(field => field.Name))}");
            return;
        }
        for (var row = 0; row < table.Data.Count; row++)
        {
            var at = source.At(record: row + 1);
            try
            {
                var values = table.Data[row];
                collector.Add(at, Prompt(Value(values, columns.Prompt)), Text(Value(values, columns.Chosen), columns.Chosen), Text(Value(values, columns.Rejected), columns.Rejected),
                    Weight(Value(values, columns.Weight), columns.Weight), Value(values, columns.Subset) is { } subset ? Text(subset, columns.Subset!) : null);
            }
            catch (BadRecordException e)
            {
                collector.Bad(at, e.Message);
            }
        }
    }

    private static DeserializationResult<Dictionary<string, object>> Load(DataSource source)
    {
        using var stream = source.OpenRead();
        using var seekable = new MemoryStream();
        stream.CopyTo(seekable);
        seekable.Position = 0;
        if (Damage(seekable.GetBuffer().AsSpan(0, (int)seekable.Length)) is { } damage)
            throw new DataFormatException(source.At(), $"not a readable Parquet file: {damage}");
        try
        {
            return ParquetSerializer.DeserializeUntypedAsync(seekable).GetAwaiter().GetResult();
        }
        // Only the Parquet library runs in here, and on damaged metadata it fails with whatever its code meets first
        // (a NullReferenceException for a column chunk without metadata, index and cast errors, its Thrift errors):
        // any of them means the file cannot be read. Running out of memory is not about the file, so it escapes.
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DataFormatException(source.At(), $"not a readable Parquet file: {e.Message}");
        }
    }

    /// <summary>
    /// What is wrong with the frame every Parquet file has (PAR1, the data, the footer, its 4-byte length, PAR1) or
    /// with the footer's encoding, or null: checked before the reader runs, whose own failures on a damaged frame name
    /// stream positions, not the file, and which does not stop on a footer cut inside a value.
    /// </summary>
    private static string? Damage(ReadOnlySpan<byte> file)
    {
        ReadOnlySpan<byte> magic = "PAR1"u8;
        const int frame = 12;  // both magics and the footer length
        if (file.Length < frame)
            return $"{file.Length} bytes is shorter than the smallest Parquet file ({frame})";
        if (!file[..4].SequenceEqual(magic) || !file[^4..].SequenceEqual(magic))
            return "a Parquet file begins and ends with the bytes PAR1, and this one does not (truncated, or another format)";
        uint footer = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(file[^8..^4]);
        if (footer > file.Length - frame)
            return $"its footer length ({footer} bytes) exceeds the file ({file.Length} bytes): the file is damaged";
        return ThriftCompactShape.Problem(file[(file.Length - 8 - (int)footer)..^8]) is { } problem
            ? $"its footer is damaged: {problem}"
            : null;
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
