using System.Buffers;
using System.Security.Cryptography;
using System.Text;

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
/// Tensors are written one after the other, each in pieces (<see cref="TensorData.CopyTo"/>), so a streamed
/// tensor of any size goes to disk without being whole in memory; on a seekable stream (any file) the data
/// is read once, hashed as it goes, and the checksum patched into the header afterwards.
/// </remarks>
public static class SafeTensorsWriter
{
    /// <summary>Bytes moved per piece: a multiple of every element size; small next to any model.</summary>
    private const int ChunkBytes = 4 << 20;

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
            infos.Add(new TensorInfo(t.Name, t.DType, t.Shape, offset, offset + t.ByteLength));
            offset += t.ByteLength;
        }
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        meta.TryAdd("format", "pt");

        byte[] chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            if (!stream.CanSeek)
            {
                // The header comes first and holds the checksum: without seeking back, hash the data in a pass of its own.
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                ForEachChunk(tensors, chunk, hash.AppendData);
                meta[DataChecksum.MetadataKey] = Convert.ToHexStringLower(hash.GetHashAndReset());
                stream.Write(SafeTensorsHeader.Encode(infos, meta));
                ForEachChunk(tensors, chunk, stream.Write);
                return;
            }
            // One pass: the header goes out with a placeholder of the checksum's length, patched once the data is hashed.
            meta[DataChecksum.MetadataKey] = new string('0', DataChecksum.HexLength);
            byte[] header = SafeTensorsHeader.Encode(infos, meta);
            long headerStart = stream.Position;
            stream.Write(header);
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                ForEachChunk(tensors, chunk, piece =>
                {
                    hash.AppendData(piece);
                    stream.Write(piece);
                });
                long end = stream.Position;
                stream.Position = headerStart + ChecksumPosition(header);
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToHexStringLower(hash.GetHashAndReset())));
                stream.Position = end;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Hands every tensor's bytes, in order, to <paramref name="consume"/> through <paramref name="chunk"/>.</summary>
    private static void ForEachChunk(List<TensorData> tensors, byte[] chunk, Action<ReadOnlySpan<byte>> consume)
    {
        foreach (var t in tensors)
        {
            // Whole elements per piece, as a streamed source requires (every element size divides ChunkBytes).
            for (long done = 0; done < t.ByteLength;)
            {
                int length = (int)Math.Min(chunk.Length, t.ByteLength - done);
                Span<byte> piece = chunk.AsSpan(0, length);
                t.CopyTo(done, piece);
                consume(piece);
                done += length;
            }
        }
    }

    /// <summary>
    /// Where the checksum's value starts in an encoded header. The JSON writer escapes every quote inside a string, so
    /// the key followed by <c>":"</c> with raw quotes occurs once, at the metadata entry itself.
    /// </summary>
    private static int ChecksumPosition(byte[] header)
    {
        byte[] key = Encoding.UTF8.GetBytes($"\"{DataChecksum.MetadataKey}\":\"");
        int at = header.AsSpan().IndexOf(key);
        if (at < 0) throw new InvalidOperationException("the encoded header lacks the checksum entry it was given");
        return at + key.Length;
    }
}
