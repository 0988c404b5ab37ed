using System.Text.Json.Nodes;

namespace WorldPM.Model;

/// <summary>
/// The keys of a Hugging Face <c>config.json</c> that decide what the decoder computes, beyond those
/// <see cref="ModelConfig"/> holds. Two kinds:
/// <list type="bullet">
/// <item>Defaults that depend on <c>model_type</c>: transformers fills the keys a config leaves out from its
/// <c>LlamaConfig</c>, and real Llama configs do leave out <c>rope_theta</c> (10000), <c>attention_bias</c> (false)
/// and, before grouped-query attention, <c>num_key_value_heads</c> (one per query head). Read with Qwen2's defaults
/// such a model would load and score as another model.</item>
/// <item>Features this decoder does not compute: RoPE scaling, sliding-window attention, MLP biases, a head width
/// other than hidden_size / num_attention_heads. They are refused naming the key, not ignored, for the same reason.
/// The off values (<c>rope_scaling</c> null, <c>use_sliding_window</c> false, ...) are accepted.</item>
/// </list>
/// </summary>
internal static class HuggingFaceConfigKeys
{
    /// <summary>LlamaConfig's defaults for the keys this decoder reads (vocabulary and sizes have none worth taking).</summary>
    private static readonly (string Key, Func<JsonObject, JsonNode?> Value)[] LlamaDefaults =
    [
        ("rope_theta", _ => 10000.0),
        ("attention_bias", _ => false),
        ("rms_norm_eps", _ => 1e-6),
        ("max_position_embeddings", _ => 2048),
        ("num_key_value_heads", config => config["num_attention_heads"]?.DeepClone()),
    ];

    /// <summary>Refuses the keys of features the decoder lacks, then fills <c>model_type</c>'s defaults into
    /// <paramref name="config"/> where it has no such key.</summary>
    /// <exception cref="NotSupportedException">A key asks for a feature the decoder lacks; the message names it.</exception>
    /// <exception cref="ArgumentException">One of these keys holds a value of the wrong kind.</exception>
    public static void Apply(JsonObject config)
    {
        RefuseUnsupported(config);
        if (String(config, "model_type") != ModelConfig.Llama) return;
        foreach (var (key, value) in LlamaDefaults)
            if (!config.ContainsKey(key) || config[key] is null) config[key] = value(config);
    }

    private static void RefuseUnsupported(JsonObject config)
    {
        if (config["rope_scaling"] is JsonNode scaling)
            throw new NotSupportedException($"rope_scaling {scaling.ToJsonString()} is not supported: the decoder applies " +
                "plain RoPE with rope_theta (rope_scaling null)");
        if (Bool(config, "use_sliding_window") == true)
            throw new NotSupportedException("use_sliding_window true is not supported: attention here is full causal " +
                "(use_sliding_window false)");
        if (Bool(config, "mlp_bias") == true)
            throw new NotSupportedException("mlp_bias true is not supported: the SwiGLU MLP here has no biases (mlp_bias false)");
        if (Int(config, "head_dim") is long headDim && Int(config, "hidden_size") is long hidden
            && Int(config, "num_attention_heads") is long heads && heads > 0 && headDim != hidden / heads)
            throw new NotSupportedException($"head_dim {headDim} is not supported: the decoder's heads are hidden_size / " +
                $"num_attention_heads = {hidden / heads} wide");
    }

    private static string? String(JsonObject config, string key) =>
        TryGet(config, key, "a string", out string? value) ? value : null;

    private static bool? Bool(JsonObject config, string key) =>
        TryGet(config, key, "true or false", out bool value) ? value : null;

    private static long? Int(JsonObject config, string key) =>
        TryGet(config, key, "an integer", out long value) ? value : null;

    /// <summary>Whether the key holds a value (false when absent or null); a value of another kind is an error naming
    /// the key.</summary>
    private static bool TryGet<T>(JsonObject config, string key, string expected, out T value)
    {
        value = default!;
        JsonNode? node = config[key];
        if (node is null) return false;
        if (node is JsonValue json && json.TryGetValue(out T? result) && result is not null)
        {
            value = result;
            return true;
        }
        throw new ArgumentException($"invalid model config: {key} is {node.ToJsonString()}, expected {expected}");
    }
}
