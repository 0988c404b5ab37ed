using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace WorldPM.Checkpoints;

/// <summary>
/// An open safetensors file: the validated header in memory, the tensor data read on demand
/// (<see cref="Read"/>, or <see cref="ReadInto"/> in pieces straight into a staging buffer), so a
/// checkpoint larger than memory can be streamed to the device. <see cref="ReadAll(string, bool)"/>
/// reads a whole file eagerly.
/// </summary>
/// <remarks>
/// Opening validates the whole header (see <see cref="SafeTensorsHeader"/>) and, unless told not to,
/// verifies the data checksum (<see cref="DataChecksum"/>), which reads the file once. Reads are
/// positional and thread-safe. Everything wrong is a <see cref="CheckpointFormatException"/> naming the file.
/// </remarks>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly SafeFileHandle file;
    private readonly long dataStart;
    private readonly Dictionary<string, TensorInfo> byName;

    private SafeTensorsFile(string path, SafeFileHandle file, long dataStart, IReadOnlyList<TensorInfo> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        this.file = file;
        this.dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The file's path as given to <see cref="Open"/>.</summary>
    public string Path { get; }

    /// <summary>The header's tensors, in the order of their data.</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Whether the file holds a tensor of that name.</summary>
    public bool Contains(string name) => byName.ContainsKey(name);

    /// <summary>The header entry of tensor <paramref name="name"/>.</summary>
    public TensorInfo this[string name] =>
        byName.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor named \"{name}\"");

    /// <summary>Opens and validates <paramref name="path"/>; verifies the checksum when the file carries one and <paramref name="verifyChecksum"/> is set.</summary>
    public static SafeTensorsFile Open(string path, bool verifyChecksum = true)
    {
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long length = RandomAccess.GetLength(file);
            if (length < 8)
                throw new CheckpointFormatException(path, $"the file has {length} bytes, fewer than the 8 of the header length: truncated or not safetensors");
            Span<byte> prefix = stackalloc byte[8];
            FileRead.Exactly(file, prefix, 0, path);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > SafeTensorsHeader.MaxBytes)
                throw new CheckpointFormatException(path, $"the header length {headerLength} is larger than the {SafeTensorsHeader.MaxBytes}-byte limit: corrupted or not safetensors");
            if ((long)headerLength > length - 8)
                throw new CheckpointFormatException(path, $"the header length {headerLength} is larger than the file ({length} bytes): truncated or not safetensors");

            var header = new byte[headerLength];
            FileRead.Exactly(file, header, 8, path);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = SafeTensorsHeader.Parse(header, length - dataStart, path);
            if (verifyChecksum && metadata.TryGetValue(DataChecksum.MetadataKey, out var expected))
                DataChecksum.Verify(file, dataStart, length - dataStart, expected, path);
            return new SafeTensorsFile(path, file, dataStart, tensors, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads every tensor of <paramref name="path"/> into memory, in the order of their data.</summary>
    public static IReadOnlyList<TensorData> ReadAll(string path, bool verifyChecksum = true)
    {
        using var file = Open(path, verifyChecksum);
        return file.ReadAll();
    }

    /// <summary>Reads every tensor into memory, in the order of their data.</summary>
    public IReadOnlyList<TensorData> ReadAll() => Tensors.Select(t => Read(t.Name)).ToList();

    /// <summary>Reads tensor <paramref name="name"/> into memory (it must be under 2 GiB; see <see cref="ReadInto"/>).</summary>
    public TensorData Read(string name)
    {
        var info = this[name];
        if (info.ByteLength > Array.MaxLength)
            throw new NotSupportedException($"{Path}: tensor \"{name}\" has {info.ByteLength} bytes, more than one array holds; read it in pieces with ReadInto");
        var data = new byte[info.ByteLength];
        ReadInto(name, 0, data);
        return new TensorData(info.Name, info.DType, info.Shape, data);
    }

    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes of tensor <paramref name="name"/>, starting
    /// <paramref name="offset"/> bytes into the tensor, into <paramref name="destination"/>.
    /// </summary>
    public void ReadInto(string name, long offset, Span<byte> destination)
    {
        var info = this[name];
        if (offset < 0 || offset > info.ByteLength || destination.Length > info.ByteLength - offset)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"{Path}: bytes [{offset}, {offset + destination.Length}) are outside tensor \"{name}\" ({info.ByteLength} bytes)");
        FileRead.Exactly(file, destination, dataStart + info.Begin + offset, Path);
    }

    /// <inheritdoc/>
    public void Dispose() => file.Dispose();
}
