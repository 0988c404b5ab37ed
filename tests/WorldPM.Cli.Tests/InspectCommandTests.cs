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
        Assert.That(train.GetProperty("gradients").GetDouble(), Is.EqualTo(4.0 * onDisk), "fp32 gradients");
        Assert.That(train.GetProperty("total").GetDouble(), Is.EqualTo(train.GetProperty("weights").GetDouble() +
            train.GetProperty("gradients").GetDouble() + train.GetProperty("optimizer").GetDouble() +
            train.GetProperty("activations").GetDouble()));
    }

    [Test]
    public void AQwen72BShapedConfigIsCountedWithoutWeights()
    {
        string dir = Qwen72BConfig("qwen72b");

        JsonElement json = JsonDocument.Parse(Worldpm.Succeed("inspect", dir, "--json", "--precision", "bf16").OutputLines.Single()).RootElement;

        // Qwen2 by its definition: embedding V d; per layer q/k/v with biases, o, gate/up/down, two norms; final norm;
        // the preference head d x 256 + 256, then 256 + 1.
        double d = 8192, v = 152064, kv = 8 * 128, mlp = 29568, layers = 80, head = 256;
        double perLayer = (d * d + d) + 2 * (kv * d + kv) + d * d + 3 * d * mlp + 2 * d;
        double expected = v * d + layers * perLayer + d + (d * head + head + head + 1);
        Assert.That(json.GetProperty("parameters").GetDouble(), Is.EqualTo(expected));
        Assert.That(json.GetProperty("files").ValueKind, Is.EqualTo(JsonValueKind.Null));
        JsonElement memory = json.GetProperty("memory");
        Assert.That(memory.GetProperty("score").GetProperty("weights").GetDouble(), Is.EqualTo(expected * 6),
            "bf16: fp32 masters and a bf16 working copy; scoring allocates no gradients");
        Assert.That(memory.GetProperty("train").GetProperty("gradients").GetDouble(), Is.EqualTo(expected * 2), "bf16 gradients");

        CliResult text = Worldpm.Succeed("inspect", dir);
        Assert.That(text.Output, Does.Contain("80 x ").And.Contain("does not fit"));
    }

    /// <summary>
    /// Scoring's activations from the shapes: per token the ones, the residual stream d and the larger block of one
    /// layer, attention (input norm d, q and its output H D each, k and v KVH D each, and 1 + H fp32) or MLP (norm d,
    /// gate and up I each, SwiGLU over gate); per sequence the head (2 d + 2 h + 1, and h + 4 fp32 with the loss
    /// padded to a 64-element unit) and the last layer at the scoring rows (3 d + 2 H D + 3 I, 1 fp32); the integers
    /// are N ids and 3 B per-sequence values. 32 pairs (B = 64) of 128 tokens keep every region a whole number of
    /// 64-element units.
    /// </summary>
    [Test]
    public void ScoringActivationsAreOneLayersWorkingSetAndTheResidualStream()
    {
        string dir = Qwen72BConfig("qwen72b-scoring");

        JsonElement memory = JsonDocument.Parse(Worldpm.Succeed("inspect", dir, "--json", "--precision", "bf16", "--batch", "32",
            "--max-length", "128").OutputLines.Single()).RootElement.GetProperty("memory");

        double b = 64, n = b * 128, d = 8192, heads = 64, q = 8192, kv = 8 * 128, mlp = 29568, head = 256;
        double storage = n * (1 + d + Math.Max(d + 2 * q + 2 * kv, d + 2 * mlp)) + b * (2 * d + 2 * head + 1)
            + b * (3 * d + 2 * q + 3 * mlp);
        double f32 = n * (1 + heads) + b * (head + 5) + 64;
        double integers = n + 3 * b;
        Assert.That(memory.GetProperty("score").GetProperty("activations").GetDouble(), Is.EqualTo(2 * storage + 4 * f32 + 4 * integers));
        Assert.That(memory.GetProperty("train").GetProperty("activations").GetDouble(),
            Is.GreaterThan(40 * memory.GetProperty("score").GetProperty("activations").GetDouble()), "80 layers kept for the backward");
    }

    /// <summary>A directory holding only a Qwen2-72B-shaped config.json.</summary>
    private string Qwen72BConfig(string name)
    {
        string dir = _run.Files.PathOf(name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), """
            {"model_type": "qwen2", "vocab_size": 152064, "hidden_size": 8192, "num_hidden_layers": 80,
             "num_attention_heads": 64, "num_key_value_heads": 8, "intermediate_size": 29568, "rms_norm_eps": 1e-06,
             "rope_theta": 1000000.0, "max_position_embeddings": 131072, "hidden_act": "silu", "tie_word_embeddings": false}
            """);
        return dir;
    }

    [Test]
    public void AMissingDirectoryIsAUsageError()
    {
        CliResult result = Worldpm.Run("inspect", _run.Files.PathOf("nothing-here"));
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("does not exist"));
    }
}
