using System.Text.Json;
using WorldPM.Checkpoints;

namespace WorldPM.Cli.Tests;

public class InspectCommandTests
{
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    [Test]
    public void ARunsParametersAndFilesAreTheSafetensorsHeaders()
    {
        JsonElement json = JsonDocument.Parse(Worldpm.Succeed("inspect", _run.RunDirectory, "--json").OutputLines.Single()).RootElement;

        using ModelCheckpointReader reader = ModelCheckpoint.Open(_run.Checkpoint);
        long onDisk = reader.Tensors.Sum(t => t.ElementCount);
        Assert.That(json.GetProperty("parameters").GetDouble(), Is.EqualTo(onDisk));
        Assert.That(json.GetProperty("checkpoint").GetString(), Is.EqualTo(_run.Checkpoint));
        JsonElement files = json.GetProperty("files");
        Assert.That(files.GetProperty("tensors").GetInt32(), Is.EqualTo(reader.Tensors.Count()));
        Assert.That(files.GetProperty("dtypes").GetProperty("f32").GetInt32(), Is.EqualTo(reader.Tensors.Count()));
        Assert.That(files.GetProperty("bytes").GetInt64(),
            Is.EqualTo(new FileInfo(Path.Combine(_run.Checkpoint, ModelCheckpoint.WeightsFileName)).Length));
        JsonElement train = json.GetProperty("memory").GetProperty("train");
        Assert.That(train.GetProperty("optimizer").GetDouble(), Is.EqualTo(8.0 * onDisk), "two fp32 moments a parameter");
        Assert.That(train.GetProperty("total").GetDouble(), Is.EqualTo(
            train.GetProperty("weights").GetDouble() + train.GetProperty("optimizer").GetDouble() + train.GetProperty("activations").GetDouble()));
    }

    [Test]
    public void AQwen72BShapedConfigIsCountedWithoutWeights()
    {
        string dir = _run.Files.PathOf("qwen72b");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), """
            {"model_type": "qwen2", "vocab_size": 152064, "hidden_size": 8192, "num_hidden_layers": 80,
             "num_attention_heads": 64, "num_key_value_heads": 8, "intermediate_size": 29568, "rms_norm_eps": 1e-06,
             "rope_theta": 1000000.0, "max_position_embeddings": 131072, "hidden_act": "silu", "tie_word_embeddings": false}
            """);

        JsonElement json = JsonDocument.Parse(Worldpm.Succeed("inspect", dir, "--json", "--precision", "bf16").OutputLines.Single()).RootElement;

        // Qwen2 by its definition: embedding V d; per layer q/k/v with biases, o, gate/up/down, two norms; final norm;
        // the preference head d x 256 + 256, then 256 + 1.
        double d = 8192, v = 152064, kv = 8 * 128, mlp = 29568, layers = 80, head = 256;
        double perLayer = (d * d + d) + 2 * (kv * d + kv) + d * d + 3 * d * mlp + 2 * d;
        double expected = v * d + layers * perLayer + d + (d * head + head + head + 1);
        Assert.That(json.GetProperty("parameters").GetDouble(), Is.EqualTo(expected));
        Assert.That(json.GetProperty("files").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(json.GetProperty("memory").GetProperty("score").GetProperty("weights").GetDouble(), Is.EqualTo(expected * 8),
            "bf16: fp32 masters, bf16 working copy and bf16 gradients");

        CliResult text = Worldpm.Succeed("inspect", dir);
        Assert.That(text.Output, Does.Contain("80 x ").And.Contain("does not fit"));
    }

    [Test]
    public void AMissingDirectoryIsAUsageError()
    {
        CliResult result = Worldpm.Run("inspect", _run.Files.PathOf("nothing-here"));
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("does not exist"));
    }
}
