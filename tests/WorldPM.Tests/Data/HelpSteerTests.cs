using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class HelpSteerTests
{
    private const string Scored = """
        {"prompt": "Name a colour.", "response": "Blue.", "helpfulness": 4, "verbosity": 1}
        {"prompt": "Name a colour.", "response": "I like turtles.", "helpfulness": 0, "verbosity": 2}
        {"prompt": "Name a colour.", "response": "Red.", "helpfulness": 4, "verbosity": 3}
        {"prompt": "Count to two.", "response": "1, 2", "helpfulness": 3, "verbosity": 0}
        {"prompt": "Count to two.", "response": "2", "helpfulness": 1, "verbosity": 0}
        {"prompt": "Lonely prompt.", "response": "Alone.", "helpfulness": 2, "verbosity": 0}
        {"prompt": "Count to two.", "response": "one two", "verbosity": 0}
        """;

    [Test]
    public void ResponsesToOnePromptPairByHelpfulnessAndEqualScoresMakeNoPair()
    {
        using var folder = new TempFolder();
        var path = folder.Write("helpsteer.jsonl", Scored);

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Pairs.Select(pair => (pair.Prompt.Single().Content, pair.Chosen, pair.Rejected)), Is.EqualTo(new[]
        {
            ("Name a colour.", "Blue.", "I like turtles."),
            ("Name a colour.", "Red.", "I like turtles."),
            ("Count to two.", "1, 2", "2"),
        }));
        Assert.That(result.TiedComparisons, Is.EqualTo(1));
        Assert.That(result.BadRecords.Single(), Is.EqualTo(new RecordIssue(new RecordLocation(path, 7), "missing field \"helpfulness\"")));
    }

    [Test]
    public void TheRankingAttributeIsConfigurable()
    {
        using var folder = new TempFolder();
        var path = folder.Write("helpsteer.jsonl", Scored);

        var result = PreferenceDataset.Load(path, new DataLoadOptions { ScoreAttribute = "verbosity" });

        Assert.That(result.Pairs.Select(pair => (pair.Chosen, pair.Rejected)), Is.EqualTo(new[]
        {
            ("I like turtles.", "Blue."),
            ("Red.", "Blue."),
            ("Red.", "I like turtles."),
        }));
        Assert.That(result.TiedComparisons, Is.EqualTo(3));
    }
}
