using System.Text.Json.Nodes;
using WorldPM.Checkpoints;

namespace WorldPM.Tests.Checkpoints;

public class ModelCheckpointTests
{
    private const string Config = """{"architectures": ["Qwen2ForSequenceClassification"], "hidden_size": 8, "num_hidden_layers": 2}""";

    private static List<TensorData> Model() =>
    [
        Tensor("model.embed_tokens.weight", TensorDType.BF16, 16, 8),
        Tensor("model.layers.0.self_attn.q_proj.weight", TensorDType.BF16, 8, 8),
        Tensor("model.layers.0.self_attn.q_proj.bias", TensorDType.F32, 8),
        Tensor("model.layers.1.mlp.up_proj.weight", TensorDType.F16, 12, 8),
        Tensor("model.norm.weight", TensorDType.F32, 8),
        Tensor("score.0.weight", TensorDType.F32, 4, 8),
    ];

    private static TensorData Tensor(string name, TensorDType dtype, params long[] shape)
    {
        var data = new byte[shape.Aggregate(1L, (a, b) => a * b) * dtype.ByteSize()];
        Random.Shared.NextBytes(data);
        return new TensorData(name, dtype, shape, data);
    }

    private static Dictionary<string, TensorExpectation> Expectations(IEnumerable<TensorData> tensors) =>
        tensors.ToDictionary(t => t.Name, t => new TensorExpectation(t.Shape, t.DType));

    private static void AssertSameTensors(ModelCheckpointReader reader, List<TensorData> expected)
    {
        Assert.That(reader.Tensors.Select(t => t.Name), Is.EquivalentTo(expected.Select(t => t.Name)));
        foreach (var t in expected)
            Assert.That(reader.Read(t.Name).Data, Is.EqualTo(t.Data), t.Name);
    }

    [Test]
    public void SingleFileCheckpointRoundTripsWithItsConfig()
    {
        using var dir = new TempDirectory();
        var model = Model();
        ModelCheckpoint.Write(dir.Path, model, Config);

        Assert.That(File.Exists(dir.File(ModelCheckpoint.WeightsFileName)));
        using var reader = ModelCheckpoint.Open(dir.Path);
        Assert.That(reader.IsSharded, Is.False);
        Assert.That(reader.Config["hidden_size"]!.GetValue<int>(), Is.EqualTo(8));
        AssertSameTensors(reader, model);
        Assert.DoesNotThrow(() => reader.Validate(Expectations(model)));
    }

    [Test]
    public void ShardedCheckpointRoundTripsAcrossShards()
    {
        using var dir = new TempDirectory();
        var model = Model();
        ModelCheckpoint.Write(dir.Path, model, JsonNode.Parse(Config)!, maxShardBytes: 300);

        var shards = Directory.GetFiles(dir.Path, "model-*-of-*.safetensors").Select(Path.GetFileName).Order().ToList();
        Assert.That(shards, Has.Count.GreaterThan(1));
        Assert.That(shards[0], Is.EqualTo($"model-00001-of-{shards.Count:D5}.safetensors"));
        Assert.That(File.Exists(dir.File(ModelCheckpoint.WeightsFileName)), Is.False);
        var index = JsonNode.Parse(File.ReadAllText(dir.File(ModelCheckpoint.IndexFileName)))!;
        Assert.That(index["metadata"]!["total_size"]!.GetValue<long>(), Is.EqualTo(model.Sum(t => t.Data.LongLength)));
        Assert.That(index["weight_map"]!.AsObject().Select(kv => kv.Key), Is.EquivalentTo(model.Select(t => t.Name)));

        using var reader = ModelCheckpoint.Open(dir.Path);
        Assert.That(reader.IsSharded);
        AssertSameTensors(reader, model);
    }

    [Test]
    public void RewritingInTheOtherLayoutRemovesTheOldWeightFiles()
    {
        using var dir = new TempDirectory();
        var model = Model();
        ModelCheckpoint.Write(dir.Path, model, Config, maxShardBytes: 300);
        ModelCheckpoint.Write(dir.Path, model, Config);

        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName),
            Is.EquivalentTo(new[] { ModelCheckpoint.ConfigFileName, ModelCheckpoint.WeightsFileName }));
    }

    [Test]
    public void ValidationListsEveryMissingUnexpectedAndMismatchedTensorInOneMessage()
    {
        using var dir = new TempDirectory();
        var model = Model();
        ModelCheckpoint.Write(dir.Path, model, Config);
        var expected = Expectations(model);
        expected.Remove("score.0.weight");
        expected.Remove("model.norm.weight");
        expected["lm_head.weight"] = new TensorExpectation([16, 8]);
        expected["model.layers.1.self_attn.k_proj.weight"] = new TensorExpectation([2, 8]);
        expected["model.embed_tokens.weight"] = new TensorExpectation([32, 8]);
        expected["model.layers.0.self_attn.q_proj.weight"] = new TensorExpectation([8, 8], TensorDType.F32);

        using var reader = ModelCheckpoint.Open(dir.Path);
        var ex = Assert.Throws<CheckpointMismatchException>(() => reader.Validate(expected));

        Assert.That(ex!.Missing, Is.EqualTo(new[] { "lm_head.weight", "model.layers.1.self_attn.k_proj.weight" }));
        Assert.That(ex.Unexpected, Is.EqualTo(new[] { "model.norm.weight", "score.0.weight" }));
        Assert.That(ex.Mismatched, Has.Count.EqualTo(2));
        Assert.That(ex.Message, Does.Contain("lm_head.weight").And.Contain("k_proj").And.Contain("score.0.weight").And.Contain("model.norm.weight")
            .And.Contain("model.embed_tokens.weight: expected [32, 8], found BF16 [16, 8]")
            .And.Contain("q_proj.weight: expected F32 [8, 8], found BF16 [8, 8]"));
    }

    [Test]
    public void UnexpectedTensorsCanBeIgnoredByName()
    {
        using var dir = new TempDirectory();
        var model = Model();
        ModelCheckpoint.Write(dir.Path, model, Config);
        var expected = Expectations(model);
        expected.Remove("score.0.weight");

        using var reader = ModelCheckpoint.Open(dir.Path);
        Assert.DoesNotThrow(() => reader.Validate(expected, name => name.StartsWith("score.")));
    }

    [Test]
    public void IndexNamingAMissingShardIsRefused()
    {
        using var dir = new TempDirectory();
        ModelCheckpoint.Write(dir.Path, Model(), Config, maxShardBytes: 300);
        File.Delete(Directory.GetFiles(dir.Path, "model-00002-of-*.safetensors").Single());

        var ex = Assert.Throws<CheckpointFormatException>(() => ModelCheckpoint.Open(dir.Path).Dispose());
        Assert.That(ex!.Message, Does.Contain("does not exist"));
    }

    [Test]
    public void IndexThatDisagreesWithItsShardsIsRefused()
    {
        using var dir = new TempDirectory();
        ModelCheckpoint.Write(dir.Path, Model(), Config, maxShardBytes: 300);
        var index = JsonNode.Parse(File.ReadAllText(dir.File(ModelCheckpoint.IndexFileName)))!;
        var weightMap = index["weight_map"]!.AsObject();
        string home = weightMap["model.norm.weight"]!.GetValue<string>();
        weightMap["model.norm.weight"] = weightMap.Select(kv => kv.Value!.GetValue<string>()).First(shard => shard != home);
        File.WriteAllText(dir.File(ModelCheckpoint.IndexFileName), index.ToJsonString());

        var ex = Assert.Throws<CheckpointFormatException>(() => ModelCheckpoint.Open(dir.Path).Dispose());
        Assert.That(ex!.Message, Does.Contain("does not match its shards").And.Contain("model.norm.weight"));
    }

    [Test]
    public void IndexWithAPathOutsideTheDirectoryIsRefused()
    {
        using var dir = new TempDirectory();
        ModelCheckpoint.Write(dir.Path, Model(), Config, maxShardBytes: 300);
        File.WriteAllText(dir.File(ModelCheckpoint.IndexFileName), """{"weight_map": {"x": "../elsewhere.safetensors"}}""");

        var ex = Assert.Throws<CheckpointFormatException>(() => ModelCheckpoint.Open(dir.Path).Dispose());
        Assert.That(ex!.Message, Does.Contain("not a file name in the checkpoint directory"));
    }

    [Test]
    public void DirectoryWithoutConfigIsRefused()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<CheckpointFormatException>(() => ModelCheckpoint.Open(dir.Path).Dispose());
        Assert.That(ex!.Message, Does.Contain("no config.json"));
    }
}
