using System.Text.Json.Nodes;
using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Cli.Tests;

/// <summary>
/// <c>train --init DIR</c> on directories as Hugging Face writes them (config.json with its keys only, no head):
/// tensors the reward model does not use are named in a warning line, a missing one stops the load naming it, and a
/// config asking for what the decoder does not compute is refused naming the key.
/// </summary>
public class InitCheckpointTests
{
    private TestFiles _files = null!;
    private string _data = null!;

    [SetUp]
    public void CreateFiles()
    {
        _files = new TestFiles();
        _data = _files.WritePairs("pairs.jsonl", 8);
    }

    [TearDown]
    public void DeleteFiles() => _files.Dispose();

    private static JsonObject Qwen2Config() => new()
    {
        ["architectures"] = new JsonArray("Qwen2ForCausalLM"), ["model_type"] = "qwen2", ["vocab_size"] = 259,
        ["hidden_size"] = 16, ["num_hidden_layers"] = 1, ["num_attention_heads"] = 2, ["num_key_value_heads"] = 1,
        ["intermediate_size"] = 32, ["max_position_embeddings"] = 128, ["rope_theta"] = 10000.0, ["rope_scaling"] = null,
        ["use_sliding_window"] = false, ["sliding_window"] = 4096, ["tie_word_embeddings"] = false,
    };

    /// <summary>A base model's directory: the decoder's tensors (but <paramref name="leftOut"/>) and an lm_head, no score.*.</summary>
    private string WriteBaseModel(JsonObject config, string? leftOut = null)
    {
        string directory = _files.PathOf("base");
        using WorldPMContext context = WorldPMContext.Create(Backend.Cpu, threads: 1);
        using var model = new RewardModel(context, ModelConfig.FromJson(config.ToJsonString()), seed: 4);
        var tensors = model.Parameters
            .Where(p => !p.Name.StartsWith("score.", StringComparison.Ordinal) && p.Name != leftOut)
            .Select(p => TensorData.FromFloats(p.Name, [.. p.Shape], p.Value.ToArray(), TensorDType.BF16))
            .Append(TensorData.FromFloats("lm_head.weight", [259, 16], new float[259 * 16], TensorDType.BF16));
        ModelCheckpoint.Write(directory, tensors, config);
        return directory;
    }

    private CliResult Train(string init) => Worldpm.Run(
        "train", _data, "--init", init, "--out", _files.PathOf("run"), "--steps", "1", "--batch", "2", "--max-length", "64");

    [Test]
    public void AnUnusedTensorIsNamedInAWarningLine()
    {
        CliResult result = Train(WriteBaseModel(Qwen2Config()));
        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        Assert.That(result.OutputLines.Where(l => l.StartsWith("warning: --init", StringComparison.Ordinal)).ToList(),
            Has.Count.EqualTo(1).And.One.Contains("1 tensor ").And.Contains("lm_head.weight"), result.ToString);
    }

    [Test]
    public void AMissingTensorStopsTheLoadNamingIt()
    {
        CliResult result = Train(WriteBaseModel(Qwen2Config(), leftOut: "model.layers.0.self_attn.k_proj.bias"));
        Assert.That(result.ExitCode, Is.Not.Zero, result.ToString);
        Assert.That(result.Error, Does.Contain("1 missing: model.layers.0.self_attn.k_proj.bias"), result.ToString);
    }

    [TestCase("rope_scaling", """{"type": "yarn", "factor": 4.0}""")]
    [TestCase("use_sliding_window", "true")]
    [TestCase("mlp_bias", "true")]
    [TestCase("head_dim", "4")]
    [TestCase("model_type", "\"mistral\"")]
    [TestCase("attention_bias", "false")]
    public void AConfigAskingForWhatTheDecoderLacksIsRefusedNamingTheKey(string key, string value)
    {
        string directory = WriteBaseModel(Qwen2Config());
        JsonObject config = Qwen2Config();
        config[key] = JsonNode.Parse(value);
        File.WriteAllText(Path.Combine(directory, ModelCheckpoint.ConfigFileName), config.ToJsonString());

        CliResult result = Train(directory);

        Assert.That(result.ExitCode, Is.Not.Zero, result.ToString);
        Assert.That(result.Error, Does.Contain(key).And.Contain("config.json"), result.ToString);
        Assert.That(result.Error, Does.Not.Contain(" at WorldPM."), "no stack trace");
    }
}
