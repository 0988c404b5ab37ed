using WorldPM.Data;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Data;

/// <summary><see cref="DataLoadOptions.MarginFrom"/>: the readers that carry a graded gap turn it into each pair's
/// margin, which reaches the tokenized pair; without the option, or without the field, a pair has none.</summary>
public class MarginFromTests
{
    [Test]
    public void GenericJsonlTakesTheNamedNumberOfTheRecord()
    {
        using var folder = new TempFolder();
        var path = folder.Write("pairs.jsonl", """
            {"prompt": "p", "chosen": "a", "rejected": "b", "gap": 1.5}
            {"prompt": "p", "chosen": "c", "rejected": "d"}
            """);

        var pairs = PreferenceDataset.Load(path, new DataLoadOptions { MarginFrom = "gap" }).Pairs;

        Assert.That(pairs.Select(p => p.Margin), Is.EqualTo(new double?[] { 1.5, null }));
        Assert.That(PreferenceDataset.Load(path).Pairs.Select(p => p.Margin), Is.All.Null, "no margins unless asked");
        TokenizedPair encoded = new PairEncoder(new ChatTemplate(ByteTokenizer.Instance, ScoringToken.EndOfText), 64).Encode(pairs[0]);
        Assert.That(encoded.Margin, Is.EqualTo(1.5f));
    }

    [Test]
    public void HelpSteerTakesTheScoreDifferenceOfTheNamedAttribute()
    {
        using var folder = new TempFolder();
        var path = folder.Write("helpsteer.jsonl", """
            {"prompt": "Name a colour.", "response": "Blue.", "helpfulness": 4, "verbosity": 1}
            {"prompt": "Name a colour.", "response": "I like turtles.", "helpfulness": 0, "verbosity": 3}
            {"prompt": "Count to two.", "response": "1, 2", "helpfulness": 3, "verbosity": 0}
            {"prompt": "Count to two.", "response": "2", "helpfulness": 1, "verbosity": 2}
            """);

        var byHelpfulness = PreferenceDataset.Load(path, new DataLoadOptions { MarginFrom = "helpfulness" }).Pairs;
        var byVerbosity = PreferenceDataset.Load(path, new DataLoadOptions { MarginFrom = "verbosity" }).Pairs;

        Assert.That(byHelpfulness.Select(p => (p.Chosen, p.Margin)), Is.EqualTo(new[] { ("Blue.", (double?)4), ("1, 2", 2) }));
        Assert.That(byVerbosity.Select(p => p.Margin), Is.EqualTo(new double?[] { -2, -2 }), "ranked by helpfulness, margin from verbosity");
    }

    [Test]
    public void StackExchangeVotesGiveTheAnswersScoreGap()
    {
        using var folder = new TempFolder();
        var path = folder.Write("site/Posts.xml", """
            <?xml version="1.0" encoding="utf-8"?>
            <posts>
              <row Id="10" PostTypeId="1" AcceptedAnswerId="11" Score="7" Title="Why?" Body="&lt;p&gt;Curious.&lt;/p&gt;" />
              <row Id="11" PostTypeId="2" ParentId="10" Score="2" Body="&lt;p&gt;Luck.&lt;/p&gt;" />
              <row Id="12" PostTypeId="2" ParentId="10" Score="9" Body="&lt;p&gt;Malt.&lt;/p&gt;" />
            </posts>
            """);

        var pair = PreferenceDataset.Load(path, new DataLoadOptions { MarginFrom = DataLoadOptions.VotesMarginField }).Pairs.Single();

        Assert.That((pair.Chosen, pair.Margin), Is.EqualTo(("Malt.", (double?)7)));
    }

    [TestCase(9, 1)]
    [TestCase(6, 0.25)]
    public void SummarizeFromFeedbackConfidenceGivesAMarginFromAQuarterToOne(int confidence, double margin)
    {
        using var folder = new TempFolder();
        var path = folder.Write("comparisons.json", $$$"""
            {"info": {"post": "My post.", "title": "T"}, "summaries": [{"text": "one"}, {"text": "two"}], "choice": 1, "extra": {"confidence": {{{confidence}}}}}
            """);

        var pair = PreferenceDataset.Load(path, new DataLoadOptions { MarginFrom = DataLoadOptions.ConfidenceMarginField }).Pairs.Single();

        Assert.That((pair.Chosen, pair.Margin, pair.Weight), Is.EqualTo(("two", (double?)margin, 1.0)));
    }
}
