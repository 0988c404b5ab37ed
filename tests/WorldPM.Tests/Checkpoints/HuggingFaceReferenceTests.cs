using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Checkpoints;

/// <summary>
/// Checkpoints written by another implementation (<see cref="TorchReference"/>: PyTorch, its own safetensors writer,
/// Hugging Face layout) loaded as <c>worldpm train --init</c> loads them: the weights with
/// <see cref="RewardModelCheckpoint.Load"/> (a missing head allowed), the tokenizer from the directory's files. The
/// project's chat template must give the reference's ids, and the decoder its last hidden state at the scoring token
/// and the head its reward. Errors are relative (<see cref="RelativeError"/>): 1e-4 in fp32, whose roundings leave
/// about 1e-6 against the reference's float64; in bf16 the whole-model bound of docs/numerics.md, "Tolerances" (4e-2),
/// as bf16 storage rounds every activation. Measured on these checkpoints: fp32 hidden states 1.4e-7 to 2.7e-7 and
/// rewards 1.9e-7 to 4.6e-7; bf16 hidden states 4.0e-3 to 5.9e-3 and rewards 6.8e-3 to 1.2e-2.
/// </summary>
[NonParallelizable]
public class HuggingFaceReferenceTests
{
    private const double Fp32Tolerance = 1e-4, Bf16Tolerance = 4e-2;

    private TorchReference reference = null!;

    [OneTimeSetUp]
    public void MakeCheckpoints() => reference = TorchReference.Make();

    [OneTimeTearDown]
    public void DeleteCheckpoints() => reference?.Dispose();

    [TestCase("qwen2")]
    [TestCase("qwen2-bf16")]
    [TestCase("llama")]
    public void TheChatTemplateGivesTheReferenceIds(string variant)
    {
        ITokenizer tokenizer = PairTokenization.LoadTokenizer(reference.Checkpoint(variant));
        ModelConfig config = ModelConfig.FromJson(File.ReadAllText(Path.Combine(reference.Checkpoint(variant), "config.json")));
        var template = new ChatTemplate(tokenizer, config.ScoringToken);
        foreach (TorchReference.Case c in reference.Cases(variant))
            Assert.That(template.Encode(c.Prompt, c.Response).Ids, Is.EqualTo(c.Ids), $"'{c.Response}'");
    }

    [TestCase("qwen2", Precision.F32, Fp32Tolerance)]
    [TestCase("qwen2-bf16", Precision.F32, Fp32Tolerance)]
    [TestCase("llama", Precision.F32, Fp32Tolerance)]
    [TestCase("qwen2-bf16", Precision.BF16, Bf16Tolerance)]
    [TestCase("llama", Precision.BF16, Bf16Tolerance)]
    public void HiddenStatesAndRewardsMatchTheReference(string variant, Precision precision, double tolerance)
    {
        IReadOnlyList<TorchReference.Case> cases = reference.Cases(variant);
        using WorldPMContext context = Context();
        using RewardModel model = RewardModelCheckpoint.Load(context, reference.Checkpoint(variant), allowMissingHead: true,
            precision: precision);
        // One right-padded batch of all conversations, as scoring runs them.
        SequenceBatch batch = SequenceBatch.FromSequences(model.Config, [.. cases.Select(c => c.Ids)]);

        float[] hidden = model.HeadInputs(batch), rewards = model.Score(batch);

        int d = model.Config.HiddenSize;
        Assert.Multiple(() =>
        {
            for (int i = 0; i < cases.Count; i++)
            {
                double[] actual = [.. hidden.Skip(i * d).Take(d).Select(v => (double)v)];
                Assert.That(RelativeError(actual, cases[i].Hidden), Is.LessThan(tolerance), $"hidden state of '{cases[i].Response}'");
            }
            Assert.That(RelativeError([.. rewards.Select(r => (double)r)], [.. cases.Select(c => c.Reward!.Value)]), Is.LessThan(tolerance),
                $"rewards {string.Join(", ", rewards)} against {string.Join(", ", cases.Select(c => c.Reward))}");
        });
    }

    [TestCase(Precision.F32, Fp32Tolerance)]
    [TestCase(Precision.BF16, Bf16Tolerance)]
    public void ABareDecoderLoadsUnderTheModelNames(Precision precision, double tolerance)
    {
        // Qwen2Model saved alone: "embed_tokens.weight", "layers.N.*", "norm.weight" in two shards, no head.
        IReadOnlyList<TorchReference.Case> cases = reference.Cases("qwen2-base");
        using WorldPMContext context = Context();
        var unused = new List<string>();
        using RewardModel model = RewardModelCheckpoint.Load(context, reference.Checkpoint("qwen2-base"), allowMissingHead: true,
            precision: precision, unusedTensors: unused);
        SequenceBatch batch = SequenceBatch.FromSequences(model.Config, [.. cases.Select(c => c.Ids)]);

        float[] hidden = model.HeadInputs(batch);

        int d = model.Config.HiddenSize;
        Assert.Multiple(() =>
        {
            Assert.That(unused, Is.Empty, "every bare decoder tensor is one of the model's parameters");
            for (int i = 0; i < cases.Count; i++)
            {
                double[] actual = [.. hidden.Skip(i * d).Take(d).Select(v => (double)v)];
                Assert.That(RelativeError(actual, cases[i].Hidden), Is.LessThan(tolerance), $"hidden state of '{cases[i].Response}'");
            }
        });
    }

    [Test]
    public void ABareDecoderWithoutItsHeadNamesTheMissingHeadTensors()
    {
        using WorldPMContext context = Context();
        var e = Assert.Throws<CheckpointMismatchException>(() =>
            RewardModelCheckpoint.Load(context, reference.Checkpoint("qwen2-base")).Dispose())!;
        Assert.That(e.Message, Does.Contain("score.0.weight"));
        Assert.That(e.Message, Does.Not.Contain("embed_tokens"), "the decoder's tensors are found under their bare names");
    }

    [Test]
    public void ALlamaConfigLoadsWithoutBiasesAndWithLlamaDefaults()
    {
        using WorldPMContext context = Context();
        using RewardModel model = RewardModelCheckpoint.Load(context, reference.Checkpoint("llama"));
        Assert.That(model.Config.ModelType, Is.EqualTo(ModelConfig.Llama));
        Assert.That(model.Config.AttentionBias, Is.False);
        Assert.That(model.Config.RopeTheta, Is.EqualTo(10000), "LlamaConfig's rope_theta where config.json has none");
        Assert.That(model.Parameters.Select(p => p.Name).Where(n => n.EndsWith("_proj.bias", StringComparison.Ordinal)), Is.Empty);
    }

    [TestCase("qwen2", new[] { "lm_head.weight" })]
    [TestCase("qwen2-bf16", new[] { "lm_head.weight" })]
    [TestCase("llama", new string[0])]
    public void TensorsTheModelDoesNotUseAreListed(string variant, string[] unused)
    {
        var listed = new List<string>();
        using WorldPMContext context = Context();
        using RewardModel model = RewardModelCheckpoint.Load(context, reference.Checkpoint(variant), unusedTensors: listed);
        Assert.That(listed, Is.EqualTo(unused));
    }

    [Test]
    public void ASavedLlamaModelLoadsBackAsLlama()
    {
        using WorldPMContext context = Context();
        using RewardModel model = RewardModelCheckpoint.Load(context, reference.Checkpoint("llama"));
        using var saved = new TempDirectory();
        RewardModelCheckpoint.Save(model, saved.Path);
        using RewardModel loaded = RewardModelCheckpoint.Load(context, saved.Path);
        Assert.That(loaded.Config, Is.EqualTo(model.Config));
        Assert.That(loaded.Parameters.Select(p => p.Name), Is.EqualTo(model.Parameters.Select(p => p.Name)));
    }
}
