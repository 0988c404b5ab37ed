namespace WorldPM.Checkpoints;

/// <summary>
/// Writes named tensors as a safetensors file that Hugging Face (Python safetensors, transformers) and
/// <see cref="SafeTensorsFile"/> read.
/// </summary>
/// <remarks>
/// Layout choices, all as Hugging Face's own writer makes them: tensors ordered by element size
/// (largest first) then name, so with the 8-byte aligned header every tensor starts aligned to its
/// element size (mmap-friendly); the header padded with spaces; metadata <c>"format": "pt"</c> unless
/// the caller sets one (transformers refuses a file whose metadata lacks it). WorldPM adds the
/// checksum <see cref="DataChecksum.MetadataKey"/>, replacing any value the caller passed.
/// </remarks>
public static class SafeTensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>).</summary>
    public static void Write(string path, IEnumerable<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = Order(tensors);
        AtomicFile.Write(path, stream => WriteOrdered(stream, ordered, metadata));
    }

    /// <summary>Writes <paramref name="tensors"/> as a safetensors file to <paramref name="stream"/> (not atomic, not flushed to disk).</summary>
    public static void WriteTo(Stream stream, IEnumerable<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteOrdered(stream, Order(tensors), metadata);

    private static List<TensorData> Order(IEnumerable<TensorData> tensors)
    {
        var list = tensors.ToList();
        var duplicate = list.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"two tensors are named \"{duplicate.Key}\"", nameof(tensors));
        if (list.Any(t => t.Name == SafeTensorsHeader.MetadataKey))
            throw new ArgumentException($"\"{SafeTensorsHeader.MetadataKey}\" is reserved and cannot name a tensor", nameof(tensors));
        return list.OrderByDescending(t => t.DType.ByteSize()).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
    }

    private static void WriteOrdered(Stream stream, List<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var infos = new List<TensorInfo>(tensors.Count);
        long offset = 0;
        foreach (var t in tensors)
        {
            infos.Add(new TensorInfo(t.Name, t.DType, t.Shape, offset, offset + t.Data.LongLength));
            offset += t.Data.LongLength;
        }
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        meta.TryAdd("format", "pt");
        meta[DataChecksum.MetadataKey] = DataChecksum.Compute(tensors.Select(t => t.Data));

        stream.Write(SafeTensorsHeader.Encode(infos, meta));
        foreach (var t in tensors) stream.Write(t.Data);
    }
}
