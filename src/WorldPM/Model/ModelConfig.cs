using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using WorldPM.Tokenization;

namespace WorldPM.Model;

/// <summary>
/// The shape of a reward model: a Qwen2 or Llama decoder (the JSON names are those of Hugging Face's
/// <c>Qwen2Config</c> and <c>LlamaConfig</c>, so their <c>config.json</c> loads; keys that change nothing here are
/// ignored, those of features the decoder lacks are refused) plus the preference
/// head Linear(d, h) -> activation -> Linear(h, 1). Call <see cref="Validate"/> (the model does) before use.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Token ids are 0 .. VocabSize - 1.</summary>
    [JsonPropertyName("vocab_size")]
    public required int VocabSize { get; init; }

    /// <summary>d, the width of the residual stream.</summary>
    [JsonPropertyName("hidden_size")]
    public required int HiddenSize { get; init; }

    /// <summary>L, decoder layers.</summary>
    [JsonPropertyName("num_hidden_layers")]
    public required int NumHiddenLayers { get; init; }

    /// <summary>H, query heads.</summary>
    [JsonPropertyName("num_attention_heads")]
    public required int NumAttentionHeads { get; init; }

    /// <summary>KVH, key/value heads (grouped-query attention: H is a multiple of it).</summary>
    [JsonPropertyName("num_key_value_heads")]
    public required int NumKeyValueHeads { get; init; }

    /// <summary>The width of the SwiGLU MLP.</summary>
    [JsonPropertyName("intermediate_size")]
    public required int IntermediateSize { get; init; }

    /// <summary>The MLP's gate activation; Qwen2 uses "silu" and it is the only one supported.</summary>
    [JsonPropertyName("hidden_act")]
    public string HiddenAct { get; init; } = "silu";

    /// <summary>The epsilon of every RMSNorm.</summary>
    [JsonPropertyName("rms_norm_eps")]
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary>The RoPE base (Qwen2.5: 1e6).</summary>
    [JsonPropertyName("rope_theta")]
    public double RopeTheta { get; init; } = 1e6;

    /// <summary>The longest sequence the model accepts.</summary>
    [JsonPropertyName("max_position_embeddings")]
    public int MaxPositionEmbeddings { get; init; } = 32768;

    /// <summary>Whether the language-model head shares the embedding table. A reward model has no LM head; the flag
    /// is kept so that checkpoints round-trip.</summary>
    [JsonPropertyName("tie_word_embeddings")]
    public bool TieWordEmbeddings { get; init; }

    /// <summary>h, the hidden width of the preference head (seed design: 256; WorldPM-72B: d).</summary>
    [JsonPropertyName("head_hidden_size")]
    public int HeadHiddenSize { get; init; } = 256;

    /// <summary>The preference head's activation (seed design: GELU tanh; WorldPM-72B: ReLU).</summary>
    [JsonPropertyName("head_activation")]
    public HeadActivation HeadActivation { get; init; } = HeadActivation.GeluTanh;

    /// <summary>Which token the head reads (a WorldPM field, saved with checkpoints so evaluation and
    /// scoring render sequences exactly as training did).</summary>
    [JsonPropertyName("scoring_token")]
    public ScoringToken ScoringToken { get; init; } = ScoringToken.EndOfText;

    /// <summary>Hugging Face's model type: <c>"qwen2"</c> or <c>"llama"</c>, the same decoder but for the q/k/v biases
    /// (<see cref="AttentionBias"/>) and the defaults of the keys a config leaves out.</summary>
    [JsonPropertyName("model_type")]
    public string ModelType { get; init; } = Qwen2;

    /// <summary>Whether q_proj, k_proj and v_proj carry biases: always in Qwen2; Llama's <c>attention_bias</c>
    /// (false unless its config says otherwise).</summary>
    [JsonPropertyName("attention_bias")]
    public bool AttentionBias { get; init; } = true;

    /// <summary>The <see cref="ModelType"/> of Qwen2 and Qwen2.5.</summary>
    public const string Qwen2 = "qwen2";

    /// <summary>The <see cref="ModelType"/> of the Llama family.</summary>
    public const string Llama = "llama";

    /// <summary>D, the width of one attention head: <see cref="HiddenSize"/> / <see cref="NumAttentionHeads"/>.</summary>
    [JsonIgnore]
    public int HeadDim => NumAttentionHeads > 0 ? HiddenSize / NumAttentionHeads : 0;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first inconsistent field, or
    /// <see cref="NotSupportedException"/> for a valid choice the library cannot run yet.
    /// </summary>
    public void Validate()
    {
        RequirePositive("vocab_size", VocabSize);
        RequirePositive("hidden_size", HiddenSize);
        RequirePositive("num_hidden_layers", NumHiddenLayers);
        RequirePositive("num_attention_heads", NumAttentionHeads);
        RequirePositive("num_key_value_heads", NumKeyValueHeads);
        RequirePositive("intermediate_size", IntermediateSize);
        RequirePositive("max_position_embeddings", MaxPositionEmbeddings);
        RequirePositive("head_hidden_size", HeadHiddenSize);
        Require(HiddenSize % NumAttentionHeads == 0,
            $"hidden_size ({HiddenSize}) must be a multiple of num_attention_heads ({NumAttentionHeads})");
        Require(NumAttentionHeads % NumKeyValueHeads == 0,
            $"num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})");
        Require(HeadDim % 2 == 0,
            $"head_dim = hidden_size / num_attention_heads = {HeadDim} must be even (RoPE rotates pairs i, i + head_dim/2)");
        Require(double.IsFinite(RmsNormEps) && RmsNormEps > 0, $"rms_norm_eps ({RmsNormEps}) must be positive and finite");
        Require(double.IsFinite(RopeTheta) && RopeTheta > 0, $"rope_theta ({RopeTheta}) must be positive and finite");
        Require(Enum.IsDefined(HeadActivation), $"head_activation ({(int)HeadActivation}) is not a known activation");
        Require(Enum.IsDefined(ScoringToken), $"scoring_token ({(int)ScoringToken}) is not a known scoring token");
        if (ModelType is not (Qwen2 or Llama))
            throw new NotSupportedException($"model_type '{ModelType}' is not supported; the decoder here is '{Qwen2}' or '{Llama}'");
        Require(AttentionBias || ModelType == Llama,
            $"attention_bias false does not fit model_type '{Qwen2}', which always has q/k/v biases ('{Llama}' may leave them out)");
        if (HiddenAct != "silu")
            throw new NotSupportedException($"hidden_act '{HiddenAct}' is not supported; the Qwen2 MLP here is SwiGLU ('silu')");
    }

    /// <summary>
    /// The small model of the quick start and of <c>worldpm train</c> without --config: 2 layers, d 64,
    /// 4 heads over 2 kv heads, MLP 192, head 64, RoPE θ 1e4 — it learns the embedded task in seconds on a CPU.
    /// </summary>
    public static ModelConfig Small(int vocabSize, int maxPositions) => new()
    {
        VocabSize = vocabSize,
        HiddenSize = 64,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        IntermediateSize = 192,
        HeadHiddenSize = 64,
        MaxPositionEmbeddings = maxPositions,
        RopeTheta = 10000,
    };

    /// <summary>Reads a config from JSON (Hugging Face names; see <see cref="HuggingFaceConfigKeys"/> for the keys
    /// this record does not hold) and validates it.</summary>
    public static ModelConfig FromJson(string json)
    {
        JsonObject node = JsonNode.Parse(json) switch
        {
            JsonObject o => o,
            null => throw new ArgumentException("the JSON holds null, not a model config", nameof(json)),
            var other => throw new ArgumentException($"the JSON holds a {other.GetValueKind()}, not a model config object", nameof(json)),
        };
        HuggingFaceConfigKeys.Apply(node);
        ModelConfig config = node.Deserialize<ModelConfig>()
            ?? throw new ArgumentException("the JSON holds null, not a model config", nameof(json));
        config.Validate();
        return config;
    }

    /// <summary>The config as indented JSON with Hugging Face names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, IndentedJson);

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static void RequirePositive(string name, int value) =>
        Require(value > 0, $"{name} ({value}) must be positive");

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException($"invalid model config: {message}");
    }
}
