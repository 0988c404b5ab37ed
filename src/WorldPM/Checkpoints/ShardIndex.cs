using System.Text.Json;
using System.Text.Json.Nodes;

namespace WorldPM.Checkpoints;

/// <summary>
/// <c>model.safetensors.index.json</c>, the table of contents of a sharded checkpoint, as Hugging Face
/// writes it: <c>{"metadata": {"total_size": bytes}, "weight_map": {tensor name: shard file name}}</c>.
/// Also how tensors are split into shards and how the shards are named
/// (<c>model-00001-of-00003.safetensors</c>).
/// </summary>
internal static class ShardIndex
{
    /// <summary>The weight map of an index file; shard names must be plain file names in the same directory.</summary>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"the index is not valid JSON ({e.Message})", e);
        }
        if (root is not JsonObject index || index["weight_map"] is not JsonObject weightMap)
            throw new CheckpointFormatException(path, "the index has no \"weight_map\" object");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (tensor, shard) in weightMap)
        {
            if (shard is not JsonValue value || !value.TryGetValue(out string? file))
                throw new CheckpointFormatException(path, $"weight_map[\"{tensor}\"] is not a file name string");
            if (file.Length == 0 || file != System.IO.Path.GetFileName(file) || file is "." or "..")
                throw new CheckpointFormatException(path, $"weight_map[\"{tensor}\"] is \"{file}\", not a file name in the checkpoint directory");
            map.Add(tensor, file);
        }
        return map;
    }

    /// <summary>The index JSON for <paramref name="shards"/> (shard file name, its tensors).</summary>
    public static string Encode(IReadOnlyList<(string File, List<TensorData> Tensors)> shards)
    {
        var weightMap = new JsonObject();
        foreach (var (file, tensors) in shards)
            foreach (var t in tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
                weightMap[t.Name] = file;
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = shards.Sum(s => s.Tensors.Sum(t => t.ByteLength)) },
            ["weight_map"] = weightMap,
        };
        return index.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Splits tensors, in order, into shards of at most <paramref name="maxShardBytes"/> data bytes each; a
    /// tensor larger than the limit gets a shard to itself (as Hugging Face does). Always at least one shard.
    /// </summary>
    public static List<List<TensorData>> Split(IEnumerable<TensorData> tensors, long maxShardBytes)
    {
        var shards = new List<List<TensorData>> { new() };
        long size = 0;
        foreach (var t in tensors)
        {
            if (size > 0 && size + t.ByteLength > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add(t);
            size += t.ByteLength;
        }
        return shards;
    }

    /// <summary>Hugging Face's shard file name.</summary>
    public static string ShardFileName(int index, int count) => $"model-{index + 1:D5}-of-{count:D5}.safetensors";

    /// <summary>Whether <paramref name="fileName"/> looks like a shard written by <see cref="ShardFileName"/>.</summary>
    public static bool IsShardFileName(string fileName) =>
        fileName.StartsWith("model-", StringComparison.Ordinal) && fileName.Contains("-of-", StringComparison.Ordinal)
        && fileName.EndsWith(".safetensors", StringComparison.Ordinal);
}
