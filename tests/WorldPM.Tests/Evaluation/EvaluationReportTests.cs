using WorldPM.Tokenization;
using WorldPM.Evaluation;
using WorldPM.Training;

namespace WorldPM.Tests.Evaluation;

public class EvaluationReportTests
{
    [Test]
    public void MetricsFromDeltasMatchHandComputedValues()
    {
        PairwiseMetrics m = PairwiseMetrics.FromDeltas([2.0, -1.0, 0.0, 3.0]);
        Assert.That(m.Accuracy, Is.EqualTo(2.5 / 4));
        Assert.That(m.Margin, Is.EqualTo(1.0));
        double expected = (Math.Log(1 + Math.Exp(-2)) + Math.Log(1 + Math.Exp(1)) + Math.Log(2) + Math.Log(1 + Math.Exp(-3))) / 4;
        Assert.That(m.Loss, Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void LargeMarginsKeepTheLossFinite()
    {
        PairwiseMetrics m = PairwiseMetrics.FromDeltas([-800.0, 800.0]);
        Assert.That(m.Loss, Is.EqualTo(400.0).Within(1e-9));
    }

    [Test]
    public void ReportSplitsBySubsetAndByWhichResponseIsShorter()
    {
        TokenizedPair[] pairs =
        [
            new([1], [1, 2], Subset: "a"),       // chosen shorter, right
            new([1, 2], [1], Subset: "a"),       // chosen longer, wrong
            new([1, 2, 3], [1], Subset: "b"),    // chosen longer, right
            new([1], [2], Subset: null),         // same length, right
        ];
        EvaluationReport r = Evaluator.Report(pairs, [1.0, -1.0, 0.5, 2.0]);
        Assert.That(r.Overall.Accuracy, Is.EqualTo(0.75));
        Assert.That(r.BySubset.Keys, Is.EqualTo(new[] { "(none)", "a", "b" }));
        Assert.That(r.BySubset["a"].Accuracy, Is.EqualTo(0.5));
        Assert.That(r.ChosenShorter.Pairs, Is.EqualTo(1));
        Assert.That(r.ChosenShorter.Accuracy, Is.EqualTo(1.0));
        Assert.That(r.ChosenLonger.Pairs, Is.EqualTo(2));
        Assert.That(r.ChosenLonger.Accuracy, Is.EqualTo(0.5));
        Assert.That(r.SameLength.Pairs, Is.EqualTo(1), "every pair is in one of the three");
    }

    [Test]
    public void LengthBiasUsesTheResponsesBeforeTruncation()
    {
        // Byte tokenizer: a response's tokens are its bytes. Both responses are cut to the same length by a tight
        // limit, yet the chosen one was the longer.
        var template = new ChatTemplate(ByteTokenizer.Instance, ScoringToken.EndOfText);
        var prompt = new[] { new WorldPM.Data.ChatTurn(WorldPM.Data.ChatRole.User, "Pick one.") };
        string chosen = new('x', 300), rejected = new('y', 200);
        TokenizedPair cut = template.EncodePair(prompt, chosen, rejected, maxLength: 60);
        Assert.That(cut.Chosen.Length, Is.EqualTo(cut.Rejected.Length), "the limit made the sequences equal");
        Assert.That((cut.ChosenResponseTokens, cut.RejectedResponseTokens), Is.EqualTo(((int?)300, (int?)200)));

        EvaluationReport r = Evaluator.Report([cut], [1.0]);
        Assert.That((r.ChosenLonger.Pairs, r.ChosenShorter.Pairs, r.SameLength.Pairs), Is.EqualTo((1, 0, 0)));
    }
}
