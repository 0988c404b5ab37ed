using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace WorldPM.Checkpoints;

/// <summary>
/// The JSON header of a safetensors file, both directions: <see cref="Parse"/> validates a header
/// read from disk against the size of the data section, <see cref="Encode"/> builds one to write.
/// </summary>
/// <remarks>
/// Layout of a file: 8 bytes little-endian u64 N, then N bytes of UTF-8 JSON
/// <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {string: string}}</c>
/// (padded with spaces so the data starts 8-byte aligned), then the data section.
///
/// Validation is as strict as Hugging Face's own reader: the tensors, sorted by offset, must tile the
/// data section exactly, from byte 0 to its last byte. A gap, an overlap or bytes after the last tensor
/// are all rejected, since none of them is produced by a correct writer and each one means the file
/// is damaged or not what it claims to be. Zero-size tensors (<c>begin == end</c>) are allowed. Fields
/// of a tensor entry other than dtype, shape and data_offsets are ignored, as Hugging Face does.
/// </remarks>
internal static class SafeTensorsHeader
{
    /// <summary>Largest header accepted, as Hugging Face's reader: a bigger one is damage, not a model.</summary>
    public const long MaxBytes = 100_000_000;

    /// <summary>The reserved key of the string-to-string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>Parses and validates a header; every problem is a <see cref="CheckpointFormatException"/> naming <paramref name="path"/>.</summary>
    public static (IReadOnlyList<TensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) Parse(
        ReadOnlySpan<byte> json, long dataLength, string path)
    {
        // JsonDocument decodes strings lazily, so invalid UTF-8 inside a name would surface later as an
        // InvalidOperationException; check it up front.
        if (!Utf8.IsValid(json))
            throw new CheckpointFormatException(path, "the header is not valid JSON (it is not valid UTF-8)");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"the header is not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, $"the header is a JSON {root.ValueKind}, not an object");

            var seen = new HashSet<string>(StringComparer.Ordinal);
            var tensors = new List<TensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                foreach (var property in root.EnumerateObject())
                {
                    if (!seen.Add(property.Name))
                        throw new CheckpointFormatException(path, $"the header names \"{property.Name}\" twice");
                    if (property.Name == MetadataKey)
                        ParseMetadata(property.Value, metadata, path);
                    else
                        tensors.Add(ParseTensor(property.Name, property.Value, dataLength, path));
                }
            }
            catch (InvalidOperationException e)
            {
                // A string escape that is not valid UTF-16 (a lone surrogate such as \ud800) fails only when decoded.
                throw new CheckpointFormatException(path, $"the header holds a string that is not valid text ({e.Message})", e);
            }
            CheckTiling(tensors, dataLength, path);
            return (tensors, metadata);
        }
    }

    /// <summary>
    /// The 8-byte length followed by the JSON header for <paramref name="tensors"/> (whose offsets the
    /// caller has laid out), padded with spaces to a multiple of 8 bytes.
    /// </summary>
    public static byte[] Encode(IEnumerable<TensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var t in tensors)
            {
                writer.WriteStartObject(t.Name);
                writer.WriteString("dtype", t.DType.SafeTensorsName());
                writer.WriteStartArray("shape");
                foreach (long dim in t.Shape) writer.WriteNumberValue(dim);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(t.Begin);
                writer.WriteNumberValue(t.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        int padded = (int)((json.Length + 7) / 8 * 8);
        var bytes = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        json.GetBuffer().AsSpan(0, (int)json.Length).CopyTo(bytes.AsSpan(8));
        bytes.AsSpan(8 + (int)json.Length).Fill((byte)' ');
        return bytes;
    }

    private static void ParseMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(path, $"{MetadataKey} is a JSON {value.ValueKind}, not an object of strings");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointFormatException(path, $"{MetadataKey} entry \"{entry.Name}\" is a JSON {entry.Value.ValueKind}, not a string");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new CheckpointFormatException(path, $"{MetadataKey} names \"{entry.Name}\" twice");
        }
    }

    private static TensorInfo ParseTensor(string name, JsonElement entry, long dataLength, string path)
    {
        string Where(string what) => $"tensor \"{name}\": {what}";
        if (entry.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(path, Where($"the entry is a JSON {entry.ValueKind}, not an object"));

        if (!entry.TryGetProperty("dtype", out var dtypeJson) || dtypeJson.ValueKind != JsonValueKind.String)
            throw new CheckpointFormatException(path, Where("no \"dtype\" string"));
        string dtypeName = dtypeJson.GetString()!;
        if (!TensorDTypes.TryParse(dtypeName, out var dtype))
            throw new CheckpointFormatException(path, Where($"unknown dtype \"{dtypeName}\" (known: {string.Join(", ", TensorDTypes.AllNames)})"));

        long[] shape = ReadIntegers(entry, "shape", path, name);
        long[] offsets = ReadIntegers(entry, "data_offsets", path, name);
        if (offsets.Length != 2)
            throw new CheckpointFormatException(path, Where($"data_offsets has {offsets.Length} numbers, not 2 (begin, end)"));
        long begin = offsets[0], end = offsets[1];
        if (!TensorData.TryByteLength(shape, dtype, out long bytes))
            throw new CheckpointFormatException(path, Where($"shape [{string.Join(", ", shape)}] overflows the element count"));
        if (end < begin)
            throw new CheckpointFormatException(path, Where($"data_offsets [{begin}, {end}] end before they begin"));
        if (end > dataLength)
            throw new CheckpointFormatException(path, Where(
                $"data_offsets [{begin}, {end}] run past the end of the data section ({dataLength} bytes): the file is truncated or the offsets are out of bounds"));
        if (end - begin != bytes)
            throw new CheckpointFormatException(path, Where(
                $"data_offsets [{begin}, {end}] hold {end - begin} bytes but {dtype} [{string.Join(", ", shape)}] needs {bytes}: wrong size for the dtype and shape"));
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /// <summary>An array of non-negative integers (dimensions or offsets).</summary>
    private static long[] ReadIntegers(JsonElement entry, string field, string path, string name)
    {
        if (!entry.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new CheckpointFormatException(path, $"tensor \"{name}\": no \"{field}\" array");
        var values = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
                throw new CheckpointFormatException(path, $"tensor \"{name}\": {field}[{i}] is {item.GetRawText()}, not a non-negative integer");
            values[i++] = value;
        }
        return values;
    }

    /// <summary>Sorted by offset, the tensors must cover [0, dataLength) exactly once.</summary>
    private static void CheckTiling(List<TensorInfo> tensors, long dataLength, string path)
    {
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        TensorInfo? previous = null;
        foreach (var t in tensors)
        {
            if (t.Begin < covered)
                throw new CheckpointFormatException(path,
                    $"tensors \"{previous!.Name}\" [{previous.Begin}, {previous.End}] and \"{t.Name}\" [{t.Begin}, {t.End}] overlap");
            if (t.Begin > covered)
                throw new CheckpointFormatException(path,
                    $"a gap of {t.Begin - covered} unused bytes at [{covered}, {t.Begin}) of the data section, before tensor \"{t.Name}\"");
            covered = t.End;
            previous = t;
        }
        if (covered != dataLength)
            throw new CheckpointFormatException(path,
                $"{dataLength - covered} trailing bytes after the last tensor (the data section has {dataLength} bytes, the tensors cover {covered})");
    }
}
