using WorldPM.Data;
using WorldPM.Explain;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Explain;

/// <summary>The three attribution methods on <see cref="KnownTokenModel"/>, where the answer is known, and their
/// checks (integrated gradients' completeness, Shapley efficiency).</summary>
[BackendNeutral]
public class AttributionMethodTests
{
    private const string Prompt = "what is 3 + 4?";
    private const string Response = "it is 7 of course";

    private WorldPMContext context = null!;
    private RewardModel model = null!;
    private ExplainedSequence sequence = null!;

    [SetUp]
    public void CreateModel()
    {
        context = WorldPMContext.Create(TestBackend.Kind, threads: 2);
        model = KnownTokenModel.Create(context);
        sequence = ExplainedSequence.Build(new ChatTemplate(ByteTokenizer.Instance), [new ChatTurn(ChatRole.User, Prompt)], Response, 128);
    }

    [TearDown]
    public void DisposeModel()
    {
        model.Dispose();
        context.Dispose();
    }

    private static IEnumerable<string> Methods => AttributionMethods.Names;

    private Attribution Explain(string method) => method switch
    {
        AttributionMethods.GradientTimesInput => GradientTimesInput.Explain(model, sequence),
        AttributionMethods.IntegratedGradients => IntegratedGradients.Explain(model, sequence),
        _ => ShapleySampling.Explain(model, sequence),
    };

    [TestCaseSource(nameof(Methods))]
    public void TheKnownTokenGetsTheLargestAttribution(string method)
    {
        Attribution a = Explain(method);
        AttributionUnit top = a.Units.MaxBy(u => Math.Abs(u.Value))!;
        TestContext.Out.WriteLine($"{method}: top '{top.Text}' {top.Value:G4}; next {a.Units.Where(u => u != top).Max(u => Math.Abs(u.Value)):G4}");
        Assert.That(top.Part, Is.EqualTo(SequencePart.Response));
        Assert.That(top.Text, Is.EqualTo(KnownTokenModel.Token.ToString()));
        Assert.That(top.Start, Is.EqualTo(Response.IndexOf(KnownTokenModel.Token)));
        Assert.That(top.Value, Is.GreaterThan(0), "the token raises the reward");
        Assert.That(a.Units.Where(u => u != top).Max(u => Math.Abs(u.Value)), Is.LessThan(top.Value / 2), "by a clear margin");
    }

    [Test]
    public void TheRewardIsTheModelsScoreOfTheSequence()
    {
        float expected = model.Score(SequenceBatch.FromSequences(model.Config, [sequence.Ids]))[0];
        foreach (string method in Methods)
            Assert.That(Explain(method).Reward, Is.EqualTo(expected).Within(1e-6), method);
    }

    [Test]
    public void IntegratedGradientsAreCompleteWithinOnePercentAtTheDefaultSteps()
    {
        Attribution a = IntegratedGradients.Explain(model, sequence);
        float baseline = model.Score(SequenceBatch.FromSequences(model.Config, [sequence.BaselineIds]))[0];
        AttributionCheck check = a.Check!;
        TestContext.Out.WriteLine($"sum {check.Sum:G6}, reward - baseline {check.Expected:G6}, relative error {check.RelativeError:E2}");
        Assert.That(a.Steps, Is.EqualTo(IntegratedGradients.DefaultSteps));
        Assert.That(check.BaselineReward, Is.EqualTo(baseline).Within(1e-6));
        Assert.That(check.Expected, Is.EqualTo(a.Reward - baseline).Within(1e-6));
        Assert.That(check.Sum, Is.EqualTo(a.Units.Sum(u => u.Value)).Within(1e-12));
        Assert.That(Math.Abs(check.Expected), Is.GreaterThan(0.05), "a change worth attributing");
        Assert.That(check.RelativeError, Is.LessThan(0.01));
    }

    [Test]
    public void IntegratedGradientsGiveTemplateTokensNothing()
    {
        Attribution a = IntegratedGradients.Explain(model, sequence);
        Assert.That(a.Units.Where(u => u.Part == SequencePart.Template).Select(u => u.Value), Has.All.EqualTo(0));
    }

    [Test]
    public void ShapleyValuesAreEfficientWithinTheirStandardError()
    {
        Attribution a = ShapleySampling.Explain(model, sequence, samples: 16, seed: 3);
        float full = model.Score(SequenceBatch.FromSequences(model.Config, [sequence.Ids]))[0];
        var allMasked = new bool[sequence.Words.Count];
        float empty = model.Score(SequenceBatch.FromSequences(model.Config, [sequence.WithWordsMasked(allMasked)]))[0];
        AttributionCheck check = a.Check!;
        Assert.That(check.Expected, Is.EqualTo((double)full - empty).Within(1e-6));
        Assert.That(check.StandardError, Is.Not.Null);
        Assert.That(a.Units.Select(u => u.StandardError), Has.All.Not.Null);
        TestContext.Out.WriteLine($"sum {check.Sum:G6}, full - empty {check.Expected:G6}, standard error {check.StandardError:G3}");
        Assert.That(Math.Abs(a.Units.Sum(u => u.Value) - check.Expected), Is.LessThanOrEqualTo(check.StandardError!.Value + 1e-5));
    }

    [Test]
    public void ShapleyUnitsAreTheWordsOfPromptAndResponse()
    {
        Attribution a = ShapleySampling.Explain(model, sequence, samples: 4);
        string[] expected = [.. Prompt.Split(' '), .. Response.Split(' ')];
        Assert.That(a.Units.Select(u => u.Text), Is.EqualTo(expected));
        Assert.That(a.Units.Select(u => u.Part), Is.EqualTo(
            Enumerable.Repeat(SequencePart.Prompt, 5).Concat(Enumerable.Repeat(SequencePart.Response, 5))));
    }

    [Test]
    public void TheKnownTokensShapleyValueIsTheRewardChangeFromMaskingItAlone()
    {
        // Nothing else reaches the reward, so every coalition sees the same change when the token joins.
        Attribution a = ShapleySampling.Explain(model, sequence, samples: 8);
        var present = Enumerable.Repeat(true, sequence.Words.Count).ToArray();
        int seven = sequence.Words.ToList().FindIndex(w => w.Text == KnownTokenModel.Token.ToString());
        present[seven] = false;
        float full = model.Score(SequenceBatch.FromSequences(model.Config, [sequence.Ids]))[0];
        float without = model.Score(SequenceBatch.FromSequences(model.Config, [sequence.WithWordsMasked(present)]))[0];
        Assert.That(a.Units[seven].Value, Is.EqualTo((double)full - without).Within(1e-5));
    }

    [Test]
    public void OnARandomModelShapleyIsEfficientWithinANonZeroStandardError()
    {
        using var random = new RewardModel(context, Model.ModelTestKit.Tiny with { VocabSize = ByteTokenizer.Instance.VocabSize }, seed: 2);
        Model.ModelTestKit.Randomize(random, seed: 7);
        Attribution shapley = ShapleySampling.Explain(random, sequence, samples: 16, seed: 5);
        AttributionCheck efficiency = shapley.Check!;
        TestContext.Out.WriteLine($"efficiency: sum {efficiency.Sum:G6}, full - empty {efficiency.Expected:G6}, standard error {efficiency.StandardError:G3}");
        Assert.That(efficiency.StandardError, Is.GreaterThan(0), "words interact: the samples disagree");
        Assert.That(efficiency.AbsoluteError, Is.LessThanOrEqualTo(efficiency.StandardError!.Value));
    }

    [Test]
    public void BadSettingsAreRefusedNamingThem()
    {
        Assert.That(() => IntegratedGradients.Explain(model, sequence, steps: 0),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("steps"));
        Assert.That(() => ShapleySampling.Explain(model, sequence, samples: 1),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("samples"));
        Assert.That(() => ExplainedSequence.Build(new ChatTemplate(ByteTokenizer.Instance), [], " ", 128),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("response"));
        Assert.That(() => ExplainedSequence.Build(new ChatTemplate(ByteTokenizer.Instance), [], new string('x', 200), 128),
            Throws.ArgumentException.With.Message.Contains("at most 128"));
    }
}
