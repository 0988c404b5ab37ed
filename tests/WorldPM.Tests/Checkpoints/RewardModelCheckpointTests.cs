using System.Text.Json.Nodes;
using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Checkpoints;

public class RewardModelCheckpointTests
{
    [Test]
    public void SavedModelLoadsBackWithIdenticalTensors()
    {
        using var dir = new TempDirectory();
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 3);
        Randomize(model, 9);
        RewardModelCheckpoint.Save(model, dir.Path);

        using RewardModel loaded = RewardModelCheckpoint.Load(context, dir.Path, seed: 77);
        Assert.That(loaded.Config, Is.EqualTo(model.Config));
        foreach ((Parameter a, Parameter b) in model.Parameters.Zip(loaded.Parameters))
        {
            Assert.That(b.Name, Is.EqualTo(a.Name));
            Assert.That(b.Value.ToArray(), Is.EqualTo(a.Value.ToArray()), a.Name);
        }
    }

    [TestCase(Precision.F32, TensorDType.F32, "float32")]
    [TestCase(Precision.F16, TensorDType.F16, "float16")]
    [TestCase(Precision.BF16, TensorDType.BF16, "bfloat16")]
    public void WeightsAreSavedInTheModelsPrecisionAndLoadBack(Precision precision, TensorDType dtype, string torchDType)
    {
        using var dir = new TempDirectory();
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 3, precision);
        Randomize(model, 9);
        RewardModelCheckpoint.Save(model, dir.Path);

        // What each precision keeps of an fp32 master, rounded by .NET's own conversions.
        Func<float, float> rounded = precision switch
        {
            Precision.F16 => v => (float)(Half)v,
            Precision.BF16 => v => (float)(BFloat16)v,
            _ => v => v,
        };
        using (ModelCheckpointReader reader = ModelCheckpoint.Open(dir.Path))
        {
            Assert.That(reader.Config[RewardModelCheckpoint.TorchDTypeKey]!.GetValue<string>(), Is.EqualTo(torchDType));
            foreach (Parameter p in model.Parameters)
            {
                Assert.That(reader[p.Name].DType, Is.EqualTo(dtype), p.Name);
                Assert.That(reader.Read(p.Name).ToFloats(), Is.EqualTo(p.Value.ToArray().Select(rounded).ToArray()), p.Name);
            }
        }

        using RewardModel loaded = RewardModelCheckpoint.Load(context, dir.Path, seed: 77, precision: precision);
        foreach ((Parameter a, Parameter b) in model.Parameters.Zip(loaded.Parameters))
        {
            Assert.That(b.Value.ToArray(), Is.EqualTo(a.Value.ToArray().Select(rounded).ToArray()), a.Name);
            Assert.That(b.Working.ToFloats(), Is.EqualTo(a.Working.ToFloats()), a.Name);
        }
    }

    // A directory as another tool writes it: Qwen2 config keys only, bf16 weights, an lm_head the reward
    // model does not use, and no score.* head (a base model to start preference training from).
    [Test]
    public void HandBuiltQwen2DirectoryLoadsWithAFreshHead()
    {
        using var dir = new TempDirectory();
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen2ForCausalLM"), ["model_type"] = "qwen2",
            ["vocab_size"] = 11, ["hidden_size"] = 8, ["num_hidden_layers"] = 1, ["num_attention_heads"] = 2,
            ["num_key_value_heads"] = 1, ["intermediate_size"] = 12, ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 1000000.0,
            ["max_position_embeddings"] = 64, ["hidden_act"] = "silu", ["tie_word_embeddings"] = false,
            ["torch_dtype"] = "bfloat16",
        };
        var shapes = new Dictionary<string, long[]>
        {
            ["model.embed_tokens.weight"] = [11, 8], ["lm_head.weight"] = [11, 8],
            ["model.layers.0.input_layernorm.weight"] = [8], ["model.layers.0.post_attention_layernorm.weight"] = [8],
            ["model.layers.0.self_attn.q_proj.weight"] = [8, 8], ["model.layers.0.self_attn.q_proj.bias"] = [8],
            ["model.layers.0.self_attn.k_proj.weight"] = [4, 8], ["model.layers.0.self_attn.k_proj.bias"] = [4],
            ["model.layers.0.self_attn.v_proj.weight"] = [4, 8], ["model.layers.0.self_attn.v_proj.bias"] = [4],
            ["model.layers.0.self_attn.o_proj.weight"] = [8, 8],
            ["model.layers.0.mlp.gate_proj.weight"] = [12, 8], ["model.layers.0.mlp.up_proj.weight"] = [12, 8],
            ["model.layers.0.mlp.down_proj.weight"] = [8, 12], ["model.norm.weight"] = [8],
        };
        var random = new Random(5);
        var values = shapes.ToDictionary(kv => kv.Key,
            kv => Enumerable.Range(0, (int)kv.Value.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)random.NextDouble() - 0.5f).ToArray());
        ModelCheckpoint.Write(dir.Path,
            shapes.Select(kv => TensorData.FromFloats(kv.Key, kv.Value, values[kv.Key], TensorDType.BF16)), config);

        using WorldPMContext context = Context();
        using RewardModel model = RewardModelCheckpoint.Load(context, dir.Path, allowMissingHead: true);
        Assert.That(model.Config.NumHiddenLayers, Is.EqualTo(1));
        Parameter q = model.Parameters.Single(p => p.Name == "model.layers.0.self_attn.q_proj.weight");
        float[] expected = values[q.Name].Select(v => (float)(BFloat16)v).ToArray();
        Assert.That(q.Value.ToArray(), Is.EqualTo(expected));
        Assert.That(model.Parameters.Single(p => p.Name == "score.0.bias").Value.ToArray(), Is.All.Zero);
    }

    [Test]
    public void MissingHeadIsAnErrorUnlessAllowed()
    {
        using var dir = new TempDirectory();
        using WorldPMContext context = Context();
        using (var model = new RewardModel(context, Tiny, seed: 1))
            ModelCheckpoint.Write(dir.Path, model.Parameters.Where(p => !p.Name.StartsWith("score.2", StringComparison.Ordinal))
                .Select(p => TensorData.FromFloats(p.Name, [.. p.Shape], p.Value.ToArray())), model.Config.ToJson());

        var e = Assert.Throws<CheckpointMismatchException>(() => RewardModelCheckpoint.Load(context, dir.Path).Dispose());
        Assert.That(e!.Message, Does.Contain("score.2.weight"));
    }

    [Test]
    public void WrongShapeNamesTheTensor()
    {
        using var dir = new TempDirectory();
        using WorldPMContext context = Context();
        using (var model = new RewardModel(context, Tiny, seed: 1))
            RewardModelCheckpoint.Save(model, dir.Path);
        using var wider = new RewardModel(context, Tiny with { IntermediateSize = 16 }, seed: 1);
        using ModelCheckpointReader reader = ModelCheckpoint.Open(dir.Path);
        var e = Assert.Throws<CheckpointMismatchException>(() => RewardModelCheckpoint.LoadInto(wider, reader));
        Assert.That(e!.Message, Does.Contain("mlp.gate_proj.weight"));
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void ANonFiniteWeightIsRefusedNamingItsTensorUnlessAllowed(float bad)
    {
        using var dir = new TempDirectory();
        using WorldPMContext context = Context();
        const string damaged = "model.layers.0.mlp.up_proj.weight";
        using (var model = new RewardModel(context, Tiny, seed: 1))
            ModelCheckpoint.Write(dir.Path, model.Parameters.Select(p =>
            {
                float[] values = p.Value.ToArray();
                if (p.Name == damaged) values[5] = bad;
                return TensorData.FromFloats(p.Name, [.. p.Shape], values);
            }), model.Config.ToJson());

        var e = Assert.Throws<CheckpointFormatException>(() => RewardModelCheckpoint.Load(context, dir.Path).Dispose());
        Assert.That(e!.Message, Does.Contain(damaged).And.Contain("element 5").And.Contain("--allow-nonfinite").And.Contain(dir.Path));

        using RewardModel loaded = RewardModelCheckpoint.Load(context, dir.Path, allowNonFinite: true);
        Assert.That(loaded.Parameters.Single(p => p.Name == damaged).Value.ToArray()[5], Is.EqualTo(bad));
    }
}
