using System.Text.Json;
using WorldPM.Model;

namespace WorldPM.Tests.Model;

/// <summary>The config: Hugging Face JSON names, defaults, and validation messages.</summary>
public class ModelConfigTests
{
    private static readonly ModelConfig Valid = ModelTestKit.Tiny;

    [Test]
    public void DefaultsAreQwen25AndTheSeedHead()
    {
        var config = new ModelConfig
        {
            VocabSize = 100, HiddenSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            IntermediateSize = 128,
        };

        Assert.That(config.RmsNormEps, Is.EqualTo(1e-6));
        Assert.That(config.RopeTheta, Is.EqualTo(1e6));
        Assert.That(config.HeadHiddenSize, Is.EqualTo(256));
        Assert.That(config.HeadActivation, Is.EqualTo(HeadActivation.GeluTanh));
        Assert.That(config.HeadDim, Is.EqualTo(16));
        Assert.That(config.TieWordEmbeddings, Is.False);
    }

    [Test]
    public void LoadsAHuggingFaceQwen2ConfigIgnoringUnknownKeys()
    {
        const string json = """
            {
              "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "hidden_act": "silu",
              "hidden_size": 896, "intermediate_size": 4864, "max_position_embeddings": 32768,
              "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
              "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
              "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 151936
            }
            """;

        ModelConfig config = ModelConfig.FromJson(json);

        Assert.That(config.HiddenSize, Is.EqualTo(896));
        Assert.That(config.HeadDim, Is.EqualTo(64));
        Assert.That(config.NumKeyValueHeads, Is.EqualTo(2));
        Assert.That(config.TieWordEmbeddings, Is.True);
        Assert.That(config.VocabSize, Is.EqualTo(151936));
    }

    [Test]
    public void JsonRoundTripsWithSnakeCaseNames()
    {
        ModelConfig config = Valid with { HeadActivation = HeadActivation.GeluExact, RopeTheta = 10000 };

        string json = config.ToJson();

        Assert.That(json, Does.Contain("\"num_key_value_heads\": 1"));
        Assert.That(json, Does.Contain("\"head_activation\": \"gelu\""));
        Assert.That(json, Does.Contain("\"model_type\": \"qwen2\""));
        Assert.That(ModelConfig.FromJson(json), Is.EqualTo(config));
    }

    [Test]
    public void MissingRequiredFieldsFailToLoad() =>
        Assert.Throws<JsonException>(() => ModelConfig.FromJson("""{ "hidden_size": 8 }"""));

    [TestCase(nameof(ModelConfig.NumKeyValueHeads), 4, "num_attention_heads (6) must be a multiple of num_key_value_heads (4)")]
    [TestCase(nameof(ModelConfig.NumAttentionHeads), 5, "hidden_size (12) must be a multiple of num_attention_heads (5)")]
    [TestCase(nameof(ModelConfig.HiddenSize), 18, "head_dim = hidden_size / num_attention_heads = 3 must be even")]
    [TestCase(nameof(ModelConfig.VocabSize), 0, "vocab_size (0) must be positive")]
    [TestCase(nameof(ModelConfig.NumHiddenLayers), -1, "num_hidden_layers (-1) must be positive")]
    public void InconsistentShapesAreRejectedWithTheirNames(string field, int value, string message)
    {
        ModelConfig config = Valid with { HiddenSize = 12, NumAttentionHeads = 6, NumKeyValueHeads = 2 };
        config = field switch
        {
            nameof(ModelConfig.NumKeyValueHeads) => config with { NumAttentionHeads = 6, NumKeyValueHeads = value },
            nameof(ModelConfig.NumAttentionHeads) => config with { NumAttentionHeads = value, NumKeyValueHeads = 1 },
            nameof(ModelConfig.HiddenSize) => config with { HiddenSize = value },
            nameof(ModelConfig.VocabSize) => config with { VocabSize = value },
            _ => config with { NumHiddenLayers = value },
        };

        Assert.That(config.Validate, Throws.ArgumentException.With.Message.Contains(message));
    }

    [Test]
    public void NonPositiveEpsilonIsRejected() =>
        Assert.That((Valid with { RmsNormEps = 0 }).Validate,
            Throws.ArgumentException.With.Message.Contains("rms_norm_eps"));

    [Test]
    public void ScoringTokenRoundTripsThroughJsonAndDefaultsToEndOfText()
    {
        Assert.That(Valid.ScoringToken, Is.EqualTo(WorldPM.Tokenization.ScoringToken.EndOfText));
        ModelConfig imEnd = Valid with { ScoringToken = WorldPM.Tokenization.ScoringToken.ImEnd };
        Assert.That(imEnd.ToJson(), Does.Contain("\"scoring_token\": \"im_end\""));
        Assert.That(ModelConfig.FromJson(imEnd.ToJson()), Is.EqualTo(imEnd));
    }

    [Test]
    public void ReluHeadIsAccepted() =>
        Assert.That((Valid with { HeadActivation = HeadActivation.Relu }).Validate, Throws.Nothing);

    [Test]
    public void ReluHeadLoadsFromJson() =>
        Assert.That(ModelConfig.FromJson(Valid.ToJson().Replace("\"gelu_pytorch_tanh\"", "\"relu\"")).HeadActivation,
            Is.EqualTo(HeadActivation.Relu));

    [Test]
    public void OnlySiluMlpsAreSupported() =>
        Assert.That((Valid with { HiddenAct = "gelu" }).Validate, Throws.TypeOf<NotSupportedException>());

    // A Llama 2 config as transformers wrote it: no rope_theta, attention_bias or mlp_bias, so LlamaConfig's defaults
    // apply (rope_theta 10000, no biases); num_key_value_heads, absent before grouped-query attention, is one per head.
    [Test]
    public void ALlamaConfigTakesLlamaConfigsDefaults()
    {
        const string json = """
            {
              "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
              "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096,
              "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "pretraining_tp": 1,
              "rms_norm_eps": 1e-05, "rope_scaling": null, "tie_word_embeddings": false, "torch_dtype": "float16",
              "use_cache": true, "vocab_size": 32000
            }
            """;

        ModelConfig config = ModelConfig.FromJson(json);

        Assert.That(config.ModelType, Is.EqualTo("llama"));
        Assert.That(config.RopeTheta, Is.EqualTo(10000));
        Assert.That(config.AttentionBias, Is.False);
        Assert.That(config.NumKeyValueHeads, Is.EqualTo(32));
        Assert.That(config.RmsNormEps, Is.EqualTo(1e-5));
        Assert.That(config.MaxPositionEmbeddings, Is.EqualTo(4096));
        Assert.That(ModelConfig.FromJson(config.ToJson()), Is.EqualTo(config));
    }

    [Test]
    public void AQwen2ConfigKeepsItsBiasesAndTheOffValuesAreAccepted()
    {
        ModelConfig config = ModelConfig.FromJson(Valid.ToJson().Replace("{", """
            { "rope_scaling": null, "use_sliding_window": false, "sliding_window": 131072, "max_window_layers": 70,
              "mlp_bias": false, "head_dim": 4,
            """));
        Assert.That(config.AttentionBias, Is.True);
        Assert.That(config.ModelType, Is.EqualTo("qwen2"));
    }

    [TestCase("rope_scaling", """{"rope_type": "llama3", "factor": 8.0}""")]
    [TestCase("rope_scaling", """{"type": "yarn", "factor": 4.0}""")]
    [TestCase("use_sliding_window", "true")]
    [TestCase("mlp_bias", "true")]
    [TestCase("head_dim", "8")]
    [TestCase("model_type", "\"mistral\"")]
    public void KeysOfFeaturesTheDecoderLacksAreRefusedByName(string key, string value)
    {
        string json = Valid.ToJson().Replace("{", $"{{ \"{key}\": {value},", StringComparison.Ordinal);
        if (key == "model_type") json = Valid.ToJson().Replace("\"qwen2\"", value, StringComparison.Ordinal);
        Assert.That(() => ModelConfig.FromJson(json), Throws.TypeOf<NotSupportedException>().With.Message.Contains(key));
    }

    [Test]
    public void AQwen2ConfigWithoutAttentionBiasIsInconsistent() =>
        Assert.That((Valid with { AttentionBias = false }).Validate,
            Throws.ArgumentException.With.Message.Contains("attention_bias"));

    [TestCase("use_sliding_window", "\"no\"")]
    [TestCase("head_dim", "\"wide\"")]
    public void AValueOfTheWrongKindIsAnErrorNamingTheKey(string key, string value) =>
        Assert.That(() => ModelConfig.FromJson(Valid.ToJson().Replace("{", $"{{ \"{key}\": {value},", StringComparison.Ordinal)),
            Throws.ArgumentException.With.Message.Contains(key));
}
