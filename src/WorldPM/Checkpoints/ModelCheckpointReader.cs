using System.Text.Json;
using System.Text.Json.Nodes;
using WorldPM.Native;

namespace WorldPM.Checkpoints;

/// <summary>
/// An open model checkpoint directory (layout in <see cref="ModelCheckpoint"/>): the config, and the
/// tensors across one file or all shards, read on demand by name. As transformers does,
/// <c>model.safetensors</c> wins when both it and an index are present. A bare decoder saved on its own (a
/// <c>Qwen2Model</c> or <c>LlamaModel</c>: <c>embed_tokens.weight</c>, <c>layers.N.*</c>, <c>norm.weight</c>, no
/// <c>model.</c> prefix) is read under the prefixed names a reward model's parameters have, so every caller sees one
/// naming whatever the checkpoint's.
/// </summary>
/// <remarks>
/// Opening validates every file's header, the index against the shards (each tensor in the index is in
/// its shard; each shard tensor is in the index; no tensor in two shards) and, by default, every data
/// checksum. <see cref="Validate"/> then checks the tensors against what the model expects.
/// </remarks>
public sealed class ModelCheckpointReader : IDisposable
{
    /// <summary>The prefix a causal LM or reward model puts before its decoder's tensor names.</summary>
    public const string DecoderPrefix = "model.";

    private readonly List<SafeTensorsFile> files;
    private readonly Dictionary<string, StoredTensor> stored;

    /// <summary>Where a tensor read under a name lies: its file, and its name in that file.</summary>
    private readonly record struct StoredTensor(SafeTensorsFile File, string Name);

    private ModelCheckpointReader(string directory, JsonNode config, bool isSharded, List<SafeTensorsFile> files,
        Dictionary<string, SafeTensorsFile> fileOf)
    {
        Directory = directory;
        IsSharded = isSharded;
        Config = config;
        this.files = files;
        bool bare = IsBareDecoder(fileOf.Keys);
        stored = fileOf.ToDictionary(kv => bare && IsDecoderTensor(kv.Key) ? DecoderPrefix + kv.Key : kv.Key,
            kv => new StoredTensor(kv.Value, kv.Key), StringComparer.Ordinal);
        HasBareDecoderNames = bare;
    }

    /// <summary>The checkpoint directory.</summary>
    public string Directory { get; }

    /// <summary>The parsed <c>config.json</c>, for the model's own config type to interpret.</summary>
    public JsonNode Config { get; }

    /// <summary>Whether the weights come from an index and shards.</summary>
    public bool IsSharded { get; }

    /// <summary>Whether the decoder's tensors are stored without the <see cref="DecoderPrefix"/> (a bare decoder);
    /// they are still read under the prefixed names.</summary>
    public bool HasBareDecoderNames { get; }

    /// <summary>Every tensor of the checkpoint, by the name it is read under (see <see cref="HasBareDecoderNames"/>).</summary>
    public IEnumerable<TensorInfo> Tensors =>
        stored.Select(kv => this[kv.Key]).OrderBy(t => t.Name, StringComparer.Ordinal);

    /// <summary>Whether the checkpoint holds a tensor read under that name.</summary>
    public bool Contains(string name) => stored.ContainsKey(name);

    /// <summary>The header entry of tensor <paramref name="name"/>, under that name.</summary>
    public TensorInfo this[string name]
    {
        get
        {
            StoredTensor t = Find(name);
            return t.Name == name ? t.File[name] : t.File[t.Name] with { Name = name };
        }
    }

    /// <summary>Reads tensor <paramref name="name"/> into memory.</summary>
    public TensorData Read(string name)
    {
        StoredTensor t = Find(name);
        TensorData data = t.File.Read(t.Name);
        return t.Name == name ? data : new TensorData(name, data.DType, data.Shape, data.Data);
    }

    /// <summary>Copies part of tensor <paramref name="name"/>; see <see cref="SafeTensorsFile.ReadInto"/>.</summary>
    public void ReadInto(string name, long offset, Span<byte> destination)
    {
        StoredTensor t = Find(name);
        t.File.ReadInto(t.Name, offset, destination);
    }

    /// <summary>Copies tensor <paramref name="name"/>, of any size, straight from its memory-mapped file into a buffer,
    /// converting its dtype; see <see cref="SafeTensorsFile.CopyTo(string, DeviceBuffer, NonFiniteValue?)"/>.</summary>
    public void CopyTo(string name, DeviceBuffer destination, NonFiniteValue? onNonFinite = null)
    {
        StoredTensor t = Find(name);
        t.File.CopyTo(t.Name, destination, onNonFinite);
    }

    /// <summary>
    /// Throws a <see cref="CheckpointMismatchException"/> listing every expected tensor that is missing or has
    /// another shape or dtype, and every tensor nothing expects (unless <paramref name="ignoreUnexpected"/> says so).
    /// </summary>
    public void Validate(IReadOnlyDictionary<string, TensorExpectation> expected, Func<string, bool>? ignoreUnexpected = null) =>
        CheckpointMismatchException.ThrowIfAny(Directory, Tensors, expected, ignoreUnexpected);

    /// <summary>Opens and validates the checkpoint in <paramref name="directory"/>.</summary>
    public static ModelCheckpointReader Open(string directory, bool verifyChecksums = true)
    {
        var config = ReadConfig(directory);
        string single = Path.Combine(directory, ModelCheckpoint.WeightsFileName);
        string index = Path.Combine(directory, ModelCheckpoint.IndexFileName);
        var files = new List<SafeTensorsFile>();
        try
        {
            Dictionary<string, SafeTensorsFile> fileOf;
            bool sharded = false;
            if (File.Exists(single))
            {
                files.Add(SafeTensorsFile.Open(single, verifyChecksums));
                fileOf = files[0].Tensors.ToDictionary(t => t.Name, _ => files[0], StringComparer.Ordinal);
            }
            else if (File.Exists(index))
            {
                fileOf = OpenShards(directory, index, files, verifyChecksums);
                sharded = true;
            }
            else
            {
                throw new CheckpointFormatException(directory, $"no {ModelCheckpoint.WeightsFileName} and no {ModelCheckpoint.IndexFileName}: not a checkpoint directory");
            }
            return new ModelCheckpointReader(directory, config, sharded, files, fileOf);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var f in files) f.Dispose();
    }

    private StoredTensor Find(string name) =>
        stored.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Directory}: no tensor named \"{name}\"");

    /// <summary>A decoder saved on its own: its embedding is stored bare, and no tensor carries the prefix.</summary>
    private static bool IsBareDecoder(IEnumerable<string> names)
    {
        bool embedding = false;
        foreach (string name in names)
        {
            if (name.StartsWith(DecoderPrefix, StringComparison.Ordinal)) return false;
            embedding |= name == "embed_tokens.weight";
        }
        return embedding;
    }

    /// <summary>The decoder's own tensors in a bare decoder (a head or lm_head beside it keeps its name).</summary>
    private static bool IsDecoderTensor(string name) =>
        name.StartsWith("embed_tokens.", StringComparison.Ordinal) || name.StartsWith("layers.", StringComparison.Ordinal) ||
        name.StartsWith("norm.", StringComparison.Ordinal);

    private static JsonNode ReadConfig(string directory)
    {
        string path = Path.Combine(directory, ModelCheckpoint.ConfigFileName);
        if (!File.Exists(path))
            throw new CheckpointFormatException(directory, $"no {ModelCheckpoint.ConfigFileName}: not a checkpoint directory (or an incomplete one)");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new CheckpointFormatException(path, "the config is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"the config is not valid JSON ({e.Message})", e);
        }
    }

    private static Dictionary<string, SafeTensorsFile> OpenShards(string directory, string index, List<SafeTensorsFile> files, bool verifyChecksums)
    {
        var weightMap = ShardIndex.Read(index);
        var shards = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        foreach (string shard in weightMap.Values.Distinct().Order(StringComparer.Ordinal))
        {
            string path = Path.Combine(directory, shard);
            if (!File.Exists(path))
                throw new CheckpointFormatException(index, $"shard {shard} named by the index does not exist");
            var file = SafeTensorsFile.Open(path, verifyChecksums);
            files.Add(file);
            shards.Add(shard, file);
        }
        var problems = new List<string>();
        foreach (var (tensor, shard) in weightMap)
            if (!shards[shard].Contains(tensor)) problems.Add($"\"{tensor}\" is mapped to {shard}, which does not hold it");
        foreach (var (shard, file) in shards)
            foreach (var t in file.Tensors)
                if (weightMap.GetValueOrDefault(t.Name) != shard) problems.Add($"{shard} holds \"{t.Name}\", which the index maps elsewhere or not at all");
        if (problems.Count > 0)
            throw new CheckpointFormatException(index, "the index does not match its shards: " + string.Join("; ", problems));
        return weightMap.ToDictionary(kv => kv.Key, kv => shards[kv.Value], StringComparer.Ordinal);
    }
}
