using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>Hugging Face names, shapes, weight-decay flags and the seeded initialization.</summary>
public class ParameterTests
{
    private WorldPMContext context = null!;

    [SetUp]
    public void CreateContext() => context = Context();

    [TearDown]
    public void DisposeContext() => context.Dispose();

    [Test]
    public void ParametersHaveHuggingFaceQwen2NamesAndShapes()
    {
        using var model = new RewardModel(context, Tiny with { NumHiddenLayers = 1 }, seed: 0);

        string[] expected =
        [
            "model.embed_tokens.weight [11, 8]",
            "model.layers.0.input_layernorm.weight [8]",
            "model.layers.0.self_attn.q_proj.weight [8, 8]",
            "model.layers.0.self_attn.q_proj.bias [8]",
            "model.layers.0.self_attn.k_proj.weight [4, 8]",
            "model.layers.0.self_attn.k_proj.bias [4]",
            "model.layers.0.self_attn.v_proj.weight [4, 8]",
            "model.layers.0.self_attn.v_proj.bias [4]",
            "model.layers.0.self_attn.o_proj.weight [8, 8]",
            "model.layers.0.post_attention_layernorm.weight [8]",
            "model.layers.0.mlp.gate_proj.weight [12, 8]",
            "model.layers.0.mlp.up_proj.weight [12, 8]",
            "model.layers.0.mlp.down_proj.weight [8, 12]",
            "model.norm.weight [8]",
            "score.0.weight [6, 8]",
            "score.0.bias [6]",
            "score.2.weight [1, 6]",
            "score.2.bias [1]",
        ];
        Assert.That(model.Parameters.Select(p => p.ToString()), Is.EqualTo(expected));
    }

    [Test]
    public void EveryLayerHasTheSameTensors()
    {
        using var model = new RewardModel(context, Tiny with { NumHiddenLayers = 3 }, seed: 0);

        Assert.That(model.Parameters.Count, Is.EqualTo(1 + 3 * 12 + 1 + 4));
        Assert.That(model.Parameters.Count(p => p.Name.StartsWith("model.layers.2.", StringComparison.Ordinal)), Is.EqualTo(12));
    }

    [Test]
    public void OnlyMatricesDecay()
    {
        using var model = new RewardModel(context, Tiny, seed: 0);

        foreach (Parameter p in model.Parameters)
            Assert.That(p.Decay, Is.EqualTo(p.Shape.Count == 2), p.Name);
    }

    [Test]
    public void InitializationIsNormalForMatricesOnesForNormsAndZerosForBiases()
    {
        using var model = new RewardModel(context, Tiny with { HiddenSize = 64, NumAttentionHeads = 4 }, seed: 7);

        foreach (Parameter p in model.Parameters)
        {
            float[] values = p.Value.ToArray();
            if (p.Name.EndsWith("norm.weight", StringComparison.Ordinal)) Assert.That(values, Is.All.EqualTo(1f), p.Name);
            else if (p.Name.EndsWith(".bias", StringComparison.Ordinal)) Assert.That(values, Is.All.Zero, p.Name);
            else if (values.Length >= 1000)
                Assert.That(Math.Sqrt(values.Average(v => (double)v * v)), Is.EqualTo(0.02).Within(10).Percent, p.Name);
        }
        Assert.That(model.ParameterGradients.ToFloats(), Is.All.Zero);
    }

    [Test]
    public void TheSameSeedGivesTheSameParameters()
    {
        using var first = new RewardModel(context, Tiny, seed: 42);
        using var second = new RewardModel(context, Tiny, seed: 42);
        using var other = new RewardModel(context, Tiny, seed: 43);

        Assert.That(second.ParameterValues.ToArray(), Is.EqualTo(first.ParameterValues.ToArray()));
        Assert.That(other.ParameterValues.ToArray(), Is.Not.EqualTo(first.ParameterValues.ToArray()));
    }

    [Test]
    public void TensorsOfOneModelGetDifferentValues()
    {
        using var model = new RewardModel(context, Tiny, seed: 42);

        float[] up = model.Parameters.Single(p => p.Name == "model.layers.0.mlp.up_proj.weight").Value.ToArray();
        float[] gate = model.Parameters.Single(p => p.Name == "model.layers.0.mlp.gate_proj.weight").Value.ToArray();
        Assert.That(up, Is.Not.EqualTo(gate));
    }

    [Test]
    public void ParameterViewsShareTheFlatBuffers()
    {
        using var model = new RewardModel(context, Tiny, seed: 1);
        Parameter norm = model.Parameters.Single(p => p.Name == "model.norm.weight");

        norm.Grad.Fill(3);

        Assert.That(model.ParameterGradients.ToFloats().Count(g => g == 3), Is.EqualTo(norm.Count));
    }
}
