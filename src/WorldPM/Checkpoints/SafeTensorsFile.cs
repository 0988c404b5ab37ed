using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;
using WorldPM.Native;

namespace WorldPM.Checkpoints;

/// <summary>
/// An open safetensors file: the validated header in memory, the tensor data memory-mapped and read on
/// demand. <see cref="CopyTo(string, DeviceBuffer, NonFiniteValue?)"/> moves a tensor of any size straight
/// from the mapping into a backend buffer, converting its dtype on the way; <see cref="Read"/> gives a
/// tensor under 2 GiB as an array, <see cref="ReadInto"/> copies part of one into the caller's memory
/// (a positional read: one copy either way).
/// <see cref="ReadAll(string, bool)"/> reads a whole file eagerly.
/// </summary>
/// <remarks>
/// Opening validates the whole header (see <see cref="SafeTensorsHeader"/>) and, unless told not to,
/// verifies the data checksum (<see cref="DataChecksum"/>), which reads the file once. The data is mapped a
/// window at a time (<see cref="MappedWindows"/>), so reading holds at most one window resident beyond
/// the destination. Reads are thread-safe. Everything wrong is a <see cref="CheckpointFormatException"/> naming the file.
/// </remarks>
public sealed class SafeTensorsFile : IDisposable
{
    private readonly SafeFileHandle file;
    private readonly MemoryMappedFile map;
    private readonly long dataStart;
    private readonly Dictionary<string, TensorInfo> byName;

    private SafeTensorsFile(string path, SafeFileHandle file, MemoryMappedFile map, long dataStart, IReadOnlyList<TensorInfo> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        this.file = file;
        this.map = map;
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
            var map = MemoryMappedFile.CreateFromFile(file, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: true);
            return new SafeTensorsFile(path, file, map, dataStart, tensors, metadata);
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

    /// <summary>Reads tensor <paramref name="name"/> into memory (it must be under 2 GiB; see <see cref="CopyTo(string, DeviceBuffer, NonFiniteValue?)"/>).</summary>
    public TensorData Read(string name)
    {
        var info = this[name];
        if (info.ByteLength > Array.MaxLength)
            throw new NotSupportedException($"{Path}: tensor \"{name}\" has {info.ByteLength} bytes, more than one array holds; " +
                "copy it into a buffer with CopyTo, or read it in pieces with ReadInto");
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

    /// <summary>
    /// Copies tensor <paramref name="name"/> into <paramref name="destination"/> (a float, <see cref="Half"/> or
    /// <see cref="BFloat16"/> buffer of the tensor's element count), converting an F32, F16, BF16 or F64 tensor to the
    /// buffer's dtype. The bytes go from the file's mapping into the buffer once, a window at a time: no copy of the
    /// whole tensor is made on the host, whatever its size. <paramref name="onNonFinite"/>, when given, is told of the
    /// first NaN or infinity of each piece (before the piece is stored; it throws to refuse the tensor).
    /// </summary>
    public void CopyTo(string name, DeviceBuffer destination, NonFiniteValue? onNonFinite = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var info = this[name];
        RequireConvertible(info, destination);
        if (destination.Count != info.ElementCount)
            throw new ArgumentException($"{Path}: tensor \"{name}\" has {info.ElementCount} elements but the destination holds {destination.Count}", nameof(destination));
        CopyElements(info, 0, destination, onNonFinite);
    }

    /// <summary>
    /// Copies elements [<paramref name="firstElement"/>, <paramref name="firstElement"/> + <paramref name="destination"/>.Count)
    /// of tensor <paramref name="name"/> into <paramref name="destination"/>, converting as
    /// <see cref="CopyTo(string, DeviceBuffer, NonFiniteValue?)"/> does and, like it, straight from the mapping: one
    /// rank's share of a tensor of any size, without the rest of it.
    /// </summary>
    public void CopyTo(string name, long firstElement, DeviceBuffer destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var info = this[name];
        RequireConvertible(info, destination);
        if (firstElement < 0 || firstElement > info.ElementCount || destination.Count > info.ElementCount - firstElement)
            throw new ArgumentOutOfRangeException(nameof(firstElement),
                $"{Path}: elements [{firstElement}, {firstElement + destination.Count}) are outside tensor \"{name}\" ({info.ElementCount} elements)");
        CopyElements(info, firstElement, destination, onNonFinite: null);
    }

    private void RequireConvertible(TensorInfo info, DeviceBuffer destination)
    {
        if (!info.DType.IsConvertibleFloat())
            throw new CheckpointFormatException(Path, $"tensor \"{info.Name}\" has dtype {info.DType}; only F32, F16, BF16 and F64 tensors load into {destination.DType} buffers");
    }

    private void CopyElements(TensorInfo info, long firstElement, DeviceBuffer destination, NonFiniteValue? onNonFinite)
    {
        Action<long, ReadOnlySpan<byte>> piece = TensorCopy.Into(destination, info.DType, onNonFinite);
        RequireOnDisk(info);
        int size = info.DType.ByteSize();
        MappedWindows.Visit(map, dataStart + info.Begin + firstElement * size, destination.Count * size, piece);
    }

    /// <summary>
    /// Refuses a tensor the file no longer reaches: touching a mapped page past the end of a file cut short after
    /// opening kills the process (SIGBUS) instead of throwing. A cut between this check and the read still does.
    /// </summary>
    private void RequireOnDisk(TensorInfo info)
    {
        long length = RandomAccess.GetLength(file);
        if (length < dataStart + info.End)
            throw new CheckpointFormatException(Path, $"the file ends at byte {length}, before the data of tensor \"{info.Name}\" (truncated while open?)");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        map.Dispose();
        file.Dispose();
    }
}
