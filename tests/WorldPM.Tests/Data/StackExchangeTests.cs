using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class StackExchangeTests
{
    private const string Posts = """
        <?xml version="1.0" encoding="utf-8"?>
        <posts>
          <row Id="10" PostTypeId="1" AcceptedAnswerId="11" Score="7" Title="Why do stouts taste of coffee?" Body="&lt;p&gt;Just curious.&lt;/p&gt;" />
          <row Id="11" PostTypeId="2" ParentId="10" Score="2" Body="&lt;p&gt;Yeast &amp;amp; luck.&lt;/p&gt;" />
          <row Id="12" PostTypeId="2" ParentId="10" Score="3" Body="&lt;p&gt;Roasted malt.&lt;/p&gt;" />
          <row Id="13" PostTypeId="2" ParentId="10" Score="2" Body="&lt;p&gt;Coffee.&lt;/p&gt;" />
          <row Id="14" PostTypeId="2" ParentId="99" Score="1" Body="&lt;p&gt;Orphan.&lt;/p&gt;" />
          <row Id="15" PostTypeId="2" ParentId="10" Score="many" Body="&lt;p&gt;Bad score.&lt;/p&gt;" />
          <row Id="16" PostTypeId="5" Body="tag wiki" />
        </posts>
        """;

    [Test]
    public void AnswersWithDifferentScoresMakePairsTheHigherChosen()
    {
        using var folder = new TempFolder();
        var path = folder.Write("cooking.stackexchange.com/Posts.xml", Posts);

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Pairs.Select(pair => (pair.Chosen, pair.Rejected)), Is.EqualTo(new[]
        {
            ("Roasted malt.", "Yeast & luck."),
            ("Roasted malt.", "Coffee."),
        }));
        Assert.That(result.TiedComparisons, Is.EqualTo(1));
        Assert.That(result.Pairs[0].Prompt.Single(), Is.EqualTo(new ChatTurn(ChatRole.User, "Why do stouts taste of coffee?\n\nJust curious.")));
        Assert.That(result.Pairs[0].Subset, Is.EqualTo("cooking.stackexchange.com"));
        Assert.That(result.Pairs[0].Source, Is.EqualTo($"{path}:3"));
    }

    [Test]
    public void BadRowsAndOrphanAnswersAreReportedWithTheirLines()
    {
        using var folder = new TempFolder();
        var path = folder.Write("site/Posts.xml", Posts);

        var bad = PreferenceDataset.Load(path).BadRecords;

        Assert.That(bad.Select(issue => issue.Location.Line), Is.EqualTo(new[] { 8, 7 }));
        Assert.That(bad[0].Reason, Does.Contain("not an integer"));
        Assert.That(bad[1].Reason, Does.Contain("question is not in the file"));
    }

    [Test]
    public void TheAcceptedAnswerBonusBreaksTiesInItsFavour()
    {
        using var folder = new TempFolder();
        var path = folder.Write("site/Posts.xml", Posts);

        var result = PreferenceDataset.Load(path, new DataLoadOptions { AcceptedAnswerBonus = 1 });

        Assert.That(result.Pairs.Select(pair => (pair.Chosen, pair.Rejected)), Is.EqualTo(new[]
        {
            ("Yeast & luck.", "Coffee."),
            ("Roasted malt.", "Coffee."),
        }));
        Assert.That(result.TiedComparisons, Is.EqualTo(1));
    }
}
