using WorldPM.Data;

namespace WorldPM.Tests.Data;

/// <summary>
/// Every file of the real data sets (<see cref="SharedData"/>) loads with the counts its README gives. Counts not in the README (the
/// empty replies in HH-RLHF) were found independently with a short Python script over the files.
/// </summary>
public class RealDataTests
{
    private const string Helpful = "hh-rlhf/helpful-base.test.jsonl.gz";
    private const string Harmless = "hh-rlhf/harmless-base.test.jsonl.gz";
    private const string Beer = "stackexchange/beer.stackexchange.com/Posts.xml";
    private const string Summaries = "summarize-from-feedback/comparisons/batch18.json";
    private const string PromptsDiffer = "chosen and rejected transcripts differ before their last Assistant turn";

    [Test]
    public void HelpfulBaseAccountsForAll2354RecordsAndDropsItsTwoIdenticalPairs()
    {
        var result = PreferenceDataset.Load(SharedData.PathOf(Helpful));

        Assert.That(result.Pairs.Count + result.BadRecords.Count + result.SkippedRecords.Count, Is.EqualTo(2354));
        Assert.That(result.BadRecords.Count(bad => bad.Reason == PromptsDiffer), Is.EqualTo(2354 - 2345));
        Assert.That(result.SkippedRecords, Has.Count.EqualTo(2));
        Assert.That(result.BadRecords.Count(bad => bad.Reason.StartsWith("empty", StringComparison.Ordinal)), Is.EqualTo(4));
        Assert.That(result.Pairs, Has.Count.EqualTo(2354 - 9 - 4 - 2));
    }

    [Test]
    public void HelpfulBaseKeepsItsTwoIdenticalPairsWhenAsked()
    {
        var result = PreferenceDataset.Load(SharedData.PathOf(Helpful), new DataLoadOptions { KeepIdenticalPairs = true });

        Assert.That(result.Pairs.Count(pair => pair.Chosen == pair.Rejected), Is.EqualTo(2));
        Assert.That(result.SkippedRecords, Is.Empty);
    }

    [Test]
    public void HarmlessBaseAccountsForAll2312Records()
    {
        var result = PreferenceDataset.Load(SharedData.PathOf(Harmless));

        Assert.That(result.Pairs.Count + result.BadRecords.Count + result.SkippedRecords.Count, Is.EqualTo(2312));
        Assert.That(result.BadRecords.Count(bad => bad.Reason == PromptsDiffer), Is.EqualTo(2312 - 2307));
        Assert.That(result.BadRecords.Count(bad => bad.Reason.StartsWith("empty", StringComparison.Ordinal)), Is.EqualTo(4));
        Assert.That(result.SkippedRecords, Is.Empty);
        Assert.That(result.Pairs, Has.Count.EqualTo(2312 - 5 - 4));
    }

    [Test]
    public void HhRlhfBadRecordsNameTheirFileAndLine()
    {
        var path = SharedData.PathOf(Helpful);

        var bad = PreferenceDataset.Load(path).BadRecords;

        Assert.That(bad.Select(issue => issue.Location.File), Is.All.EqualTo(path));
        Assert.That(bad.Select(issue => issue.Location.Line), Is.All.InRange(1, 2354));
    }

    [Test]
    public void HhRlhfPromptsAreChatTurnsEndingWithTheHuman()
    {
        var pairs = PreferenceDataset.Load(SharedData.PathOf(Harmless)).Pairs;

        Assert.That(pairs.Select(pair => pair.Prompt[0].Role), Is.All.EqualTo(ChatRole.User));
        Assert.That(pairs.Count(pair => pair.Prompt[^1].Role == ChatRole.User), Is.GreaterThan(pairs.Count * 99 / 100));
        Assert.That(pairs.SelectMany(pair => pair.Prompt).Select(turn => turn.Content), Has.None.Contains("\n\nHuman:"));
    }

    [Test]
    public void StackExchangeGives2196UnequalScorePairsAnd380Ties()
    {
        var result = PreferenceDataset.Load(SharedData.PathOf(Beer));

        Assert.That(result.Pairs, Has.Count.EqualTo(2196));
        Assert.That(result.TiedComparisons, Is.EqualTo(380));
        Assert.That(result.BadRecords, Is.Empty);
        Assert.That(result.Pairs.Select(pair => pair.Subset), Is.All.EqualTo("beer.stackexchange.com"));
    }

    [Test]
    public void StackExchangeBodiesArePlainText()
    {
        var pairs = PreferenceDataset.Load(SharedData.PathOf(Beer)).Pairs;

        var texts = pairs.SelectMany(pair => new[] { pair.Chosen, pair.Rejected, pair.Prompt[0].Content }).ToList();
        Assert.That(texts, Has.None.Contains("<p>").And.None.Contains("&amp;").And.None.Contains("</a>"));
    }

    [Test]
    public void StackExchangeWithTheAcceptedAnswerPlusOneGives2230Pairs()
    {
        var result = PreferenceDataset.Load(SharedData.PathOf(Beer), new DataLoadOptions { AcceptedAnswerBonus = 1 });

        Assert.That(result.Pairs, Has.Count.EqualTo(2230));
        Assert.That(result.TiedComparisons, Is.EqualTo(346));
    }

    [Test]
    public void SummarizeFromFeedbackGives674Comparisons339WithTheHumanSummary()
    {
        var result = PreferenceDataset.Load(SharedData.PathOf(Summaries));

        Assert.That(result.Pairs, Has.Count.EqualTo(674));
        Assert.That(result.BadRecords, Is.Empty);
        Assert.That(result.Pairs.Count(pair => pair.Subset == "human-vs-model"), Is.EqualTo(339));
        Assert.That(result.Pairs.Select(pair => pair.Weight), Is.All.EqualTo(1.0));
    }

    [Test]
    public void SummarizeFromFeedbackWeightsByConfidenceWhenAsked()
    {
        var pairs = PreferenceDataset.Load(SharedData.PathOf(Summaries), new DataLoadOptions { WeightByConfidence = true }).Pairs;

        Assert.That(pairs.Select(pair => pair.Weight).Distinct().Order(), Is.EqualTo(new[] { 0.25, 0.5, 0.75, 1.0 }));
    }

    [TestCase("llmbar/Natural", "Natural", 100)]
    [TestCase("llmbar/Adversarial/Neighbor", "Adversarial/Neighbor", 134)]
    [TestCase("llmbar/Adversarial/GPTInst", "Adversarial/GPTInst", 92)]
    [TestCase("llmbar/Adversarial/GPTOut", "Adversarial/GPTOut", 47)]
    [TestCase("llmbar/Adversarial/Manual", "Adversarial/Manual", 46)]
    public void LlmBarFileLoadsWithItsFolderAsSubset(string folder, string subset, int pairs)
    {
        var result = PreferenceDataset.Load(SharedData.PathOf($"{folder}/dataset.json"));

        Assert.That(result.Pairs, Has.Count.EqualTo(pairs));
        Assert.That(result.Pairs.Select(pair => pair.Subset), Is.All.EqualTo(subset));
        Assert.That(result.BadRecords, Is.Empty);
    }

    [Test]
    public void LlmBarNaturalPicksTheLabelledOutput()
    {
        var pairs = PreferenceDataset.Load(SharedData.PathOf("llmbar/Natural/dataset.json")).Pairs;

        Assert.That(pairs[0].Source, Does.EndWith("(record 1)"));
        Assert.That(pairs.Select(pair => pair.Prompt.Single().Role), Is.All.EqualTo(ChatRole.User));
    }

    [Test]
    public void LlmBarFolderLoadsEverySubset()
    {
        var result = PreferenceDataset.Load(SharedData.PathOf("llmbar"));

        var counts = result.Pairs.GroupBy(pair => pair.Subset!).ToDictionary(group => group.Key, group => group.Count());
        Assert.That(counts, Is.EquivalentTo(new Dictionary<string, int>
        {
            ["Natural"] = 100,
            ["Adversarial/Neighbor"] = 134,
            ["Adversarial/GPTInst"] = 92,
            ["Adversarial/GPTOut"] = 47,
            ["Adversarial/Manual"] = 46,
        }));
        Assert.That(result.Files, Has.Count.EqualTo(5));
    }

    [Test]
    public void TheWholeDataFolderLoadsAndIgnoresTheReadme()
    {
        var result = PreferenceDataset.Load(SharedData.Root);

        Assert.That(result.Files, Has.Count.EqualTo(9));
        Assert.That(result.IgnoredFiles.Select(Path.GetFileName), Is.EqualTo(new[] { "README.md" }));
        Assert.That(result.Pairs, Has.Count.EqualTo((2354 - 15) + (2312 - 9) + 2196 + 674 + 419));
    }

    [TestCase(Helpful, DataFormat.HhRlhf)]
    [TestCase(Harmless, DataFormat.HhRlhf)]
    [TestCase(Beer, DataFormat.StackExchange)]
    [TestCase(Summaries, DataFormat.SummarizeFromFeedback)]
    [TestCase("llmbar/Natural/dataset.json", DataFormat.LlmBar)]
    [TestCase("llmbar/Adversarial/Manual/dataset.json", DataFormat.LlmBar)]
    public void DetectionRecognisesEachRealFile(string file, DataFormat format) =>
        Assert.That(PreferenceDataset.DetectFormat(SharedData.PathOf(file)), Is.EqualTo(format));
}
