using WorldPM.Data;

namespace WorldPM.Tests.Data;

/// <summary>Answer rankings: k answers per question and pairwise judgments between them, 0 meaning no preference.</summary>
public class AnswerRankingTests
{
    [Test]
    public void EachJudgmentIsAPairAndTiesAreCountedNotPaired()
    {
        using var folder = new TempFolder();
        var path = folder.Write("rankings.jsonl", """
            {"question": "Best pet?", "answers": ["cat", "dog", "rock"], "judgments": [{"i": 0, "j": 1, "preference": 1}, {"i": 1, "j": 2, "preference": -1}, {"i": 0, "j": 2, "preference": 0}, [2, 0, 1]], "category": "pets"}

            {"prompt": [{"role": "user", "content": "2+2?"}], "responses": ["4", "5"], "comparisons": [[0, 1, 0], [1, 0, -1], {"i": 0, "j": 1, "preference": 1}]}
            """);

        var result = PreferenceDataset.Load(path);

        // By hand: 1 = answer i preferred, -1 = answer j preferred, 0 = a tie (no pair); two judgments of the same two
        // answers are two pairs.
        Assert.That(result.Pairs.Select(p => (p.Prompt.Single().Content, p.Chosen, p.Rejected, p.Subset)), Is.EqualTo(new[]
        {
            ("Best pet?", "cat", "dog", (string?)"pets"),
            ("Best pet?", "rock", "dog", "pets"),
            ("Best pet?", "rock", "cat", "pets"),
            ("2+2?", "4", "5", null),
            ("2+2?", "4", "5", null),
        }));
        Assert.That(result.Pairs.Select(p => p.Source), Is.EqualTo(new[] { 1, 1, 1, 3, 3 }.Select(line => $"{path}:{line}")));
        Assert.That(result.TiedComparisons, Is.EqualTo(2));
        Assert.That(result.Files.Single().TiedComparisons, Is.EqualTo(2));
        Assert.That(result.Files.Single().Format, Is.EqualTo(DataFormat.AnswerRankings));
        Assert.That(result.Summary(), Does.Contain("5 pairs").And.Contain("2 tied comparisons"));
        Assert.That(result.BadRecords, Is.Empty);
    }

    [Test]
    public void ABadJudgmentMakesTheWholeRecordBadWithItsReason()
    {
        using var folder = new TempFolder();
        var path = folder.Write("bad.jsonl", """
            {"question": "q", "answers": ["a", "b"], "judgments": [[0, 1, 1], [0, 2, 1]]}
            {"question": "q", "answers": ["a", "b"], "judgments": [[1, 1, 1]]}
            {"question": "q", "answers": ["a", "b"], "judgments": [[0, 1, 2]]}
            {"question": "q", "answers": ["a", "b"], "judgments": [{"i": 0, "preference": 1}]}
            {"question": "q", "answers": ["a", "b"], "judgments": [[0, 1]]}
            {"answers": ["a", "b"], "judgments": []}
            {"question": "q", "answers": ["a", 7], "judgments": []}
            {"question": "q", "answers": ["a", "b"], "judgments": [[0, 1, -1]]}
            """);

        var result = PreferenceDataset.Load(path, new DataLoadOptions { Format = DataFormat.AnswerRankings });

        Assert.That(result.Pairs.Select(p => (p.Chosen, p.Rejected)), Is.EqualTo(new[] { ("b", "a") }), "only the last record is whole");
        Assert.That(result.BadRecords.Select(b => (b.Location.Line, b.Reason)), Is.EqualTo(new (int?, string)[]
        {
            (1, "judgment 2: j = 2 is not an answer index (0 to 1)"),
            (2, "judgment 1 compares answer 1 with itself"),
            (3, "judgment 1: preference 2 should be 1 (answer i preferred), -1 (answer j preferred) or 0 (no preference)"),
            (4, "judgment 1: missing field \"j\""),
            (5, "judgment 1 should be {\"i\", \"j\", \"preference\"} or [i, j, preference], not an array of 2 items"),
            (6, "missing field \"question\" or \"prompt\""),
            (7, "field \"answers[1]\" should be a string, not a number"),
        }));
    }

    [Test]
    public void StrictStopsAtTheFirstBadJudgment()
    {
        using var folder = new TempFolder();
        var path = folder.Write("strict.jsonl", """
            {"question": "q", "answers": ["a", "b"], "judgments": [[0, 1, 1]]}
            {"question": "q", "answers": ["a", "b"], "judgments": [[0, 1, 3]]}
            """);

        var error = Assert.Throws<DataFormatException>(() => PreferenceDataset.Load(path, new DataLoadOptions { Strict = true }));

        Assert.That(error!.Location, Is.EqualTo(new RecordLocation(path, 2)));
        Assert.That(error.Reason, Does.StartWith("judgment 1: preference 3"));
    }

    [Test]
    public void TheFormatHasACommandLineName()
    {
        Assert.That(DataFormatNames.TryParse("answer-rankings"), Is.EqualTo(DataFormat.AnswerRankings));
        Assert.That(DataFormatNames.Name(DataFormat.AnswerRankings), Is.EqualTo("answer-rankings"));
        Assert.That(DataFormatNames.All, Does.Contain("answer-rankings").And.Contain("csv"));
    }
}
