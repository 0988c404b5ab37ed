using System.Text.Json;
using System.Text.Json.Nodes;

namespace WorldPM.Checkpoints;

/// <summary>
/// A model checkpoint directory in the Hugging Face layout, which transformers' <c>from_pretrained</c>
/// loads and which <see cref="ModelCheckpointReader"/> loads from others:
/// <code>
/// config.json                        the model config (JSON given by the caller)
/// model.safetensors                  all weights, when they fit in one shard
///   or
/// model.safetensors.index.json       {"metadata": {"total_size": N}, "weight_map": {tensor: shard}}
/// model-00001-of-0000K.safetensors   shard 1 of K ... (each at most MaxShardBytes of data)
/// </code>
/// Every file is written atomically (<see cref="AtomicFile"/>) and carries a data checksum; in a sharded
/// write the index goes last, after every shard it names is on disk. Rewriting a directory in place
/// replaces the files one by one, so for "a crash never loses the last good checkpoint" write each
/// checkpoint into a fresh directory through <see cref="CheckpointStore"/>.
/// </summary>
public static class ModelCheckpoint
{
    /// <summary>The config file's name.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>The single-file weights' name.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>The shard index's name.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Hugging Face's default shard limit (5 GB of tensor data per file).</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>
    /// Writes <paramref name="config"/> and the weights to <paramref name="directory"/> (created if needed): one
    /// <c>model.safetensors</c> when the data fits in <paramref name="maxShardBytes"/>, shards and an index otherwise.
    /// Files of the other layout left by an earlier write are removed afterwards.
    /// </summary>
    public static void Write(string directory, IEnumerable<TensorData> tensors, JsonNode config,
        long maxShardBytes = DefaultMaxShardBytes, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxShardBytes, 1);
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFileName), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var shards = ShardIndex.Split(tensors, maxShardBytes);
        if (shards.Count == 1)
        {
            SafeTensorsWriter.Write(Path.Combine(directory, WeightsFileName), shards[0], metadata);
            RemoveStale(directory, keep: [WeightsFileName]);
            return;
        }
        var named = shards.Select((s, i) => (File: ShardIndex.ShardFileName(i, shards.Count), Tensors: s)).ToList();
        foreach (var (file, shard) in named)
            SafeTensorsWriter.Write(Path.Combine(directory, file), shard, metadata);
        AtomicFile.WriteAllText(Path.Combine(directory, IndexFileName), ShardIndex.Encode(named));
        RemoveStale(directory, keep: [IndexFileName, .. named.Select(n => n.File)]);
    }

    /// <summary>As <see cref="Write(string, IEnumerable{TensorData}, JsonNode, long, IReadOnlyDictionary{string, string}?)"/> with the config as JSON text.</summary>
    public static void Write(string directory, IEnumerable<TensorData> tensors, string configJson,
        long maxShardBytes = DefaultMaxShardBytes, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(directory, tensors, JsonNode.Parse(configJson) ?? throw new ArgumentException("the config is JSON null", nameof(configJson)),
            maxShardBytes, metadata);

    /// <summary>Opens the checkpoint in <paramref name="directory"/>; see <see cref="ModelCheckpointReader"/>.</summary>
    public static ModelCheckpointReader Open(string directory, bool verifyChecksums = true) =>
        ModelCheckpointReader.Open(directory, verifyChecksums);

    /// <summary>Deletes weight files of this directory that the write just done did not produce.</summary>
    private static void RemoveStale(string directory, HashSet<string> keep)
    {
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            string name = Path.GetFileName(file);
            bool weights = name is WeightsFileName or IndexFileName || ShardIndex.IsShardFileName(name);
            if (weights && !keep.Contains(name)) File.Delete(file);
        }
    }
}
