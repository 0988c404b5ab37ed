using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class BadRecordTests
{
    private const string Mixed = """
        {"prompt": "good one", "chosen": "yes", "rejected": "no"}
        {"prompt": "broken", "chosen": "yes",
        {"prompt": "no rejected", "chosen": "yes"}
        {"prompt": "empty", "chosen": "   ", "rejected": "no"}
        {"prompt": "number", "chosen": 42, "rejected": "no"}
        ["not", "an", "object"]

        {"prompt": "good two", "chosen": "yes", "rejected": "no"}
        {"prompt": "bad weight", "chosen": "yes", "rejected": "no", "weight": "heavy"}
        """;

    [Test]
    public void GoodLinesLoadAndEachBadLineIsReportedWithItsLineAndReason()
    {
        using var folder = new TempFolder();
        var path = folder.Write("mixed.jsonl", Mixed);

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Pairs.Select(pair => pair.Prompt[0].Content), Is.EqualTo(new[] { "good one", "good two" }));
        Assert.That(result.BadRecords.Select(bad => bad.Location.Line), Is.EqualTo(new[] { 2, 3, 4, 5, 6, 9 }));
        Assert.That(result.BadRecords.Select(bad => bad.Location.File), Is.All.EqualTo(path));
        Assert.That(result.BadRecords[0].Reason, Does.StartWith("invalid JSON"));
        Assert.That(result.BadRecords[1].Reason, Is.EqualTo("missing field \"rejected\""));
        Assert.That(result.BadRecords[2].Reason, Is.EqualTo("empty chosen response"));
        Assert.That(result.BadRecords[3].Reason, Does.Contain("\"chosen\"").And.Contain("not a number"));
        Assert.That(result.BadRecords[4].Reason, Does.Contain("JSON object"));
        Assert.That(result.BadRecords[5].Reason, Does.Contain("\"weight\"").And.Contain("number"));
        Assert.That(result.BadRecords[0].ToString(), Does.StartWith($"{path}:2: invalid JSON"));
    }

    [Test]
    public void StrictModeThrowsOnTheFirstBadRecord()
    {
        using var folder = new TempFolder();
        var path = folder.Write("mixed.jsonl", Mixed);

        var error = Assert.Throws<DataFormatException>(() => PreferenceDataset.Load(path, new DataLoadOptions { Strict = true }))!;

        Assert.That(error.Location, Is.EqualTo(new RecordLocation(path, 2)));
        Assert.That(error.Reason, Does.StartWith("invalid JSON"));
        Assert.That(error.Message, Does.StartWith($"{path}:2: invalid JSON"));
    }

    [Test]
    public void StrictModeDoesNotThrowForIdenticalPairsWhichAreSkippedOnPurpose()
    {
        using var folder = new TempFolder();
        var path = folder.Write("same.jsonl", """{"prompt": "p", "chosen": "same", "rejected": "same"}""");

        var result = PreferenceDataset.Load(path, new DataLoadOptions { Strict = true });

        Assert.That(result.Pairs, Is.Empty);
        Assert.That(result.SkippedRecords.Single().Location.Line, Is.EqualTo(1));
    }

    [Test]
    public void AMissingFileThrowsNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), "worldpm-no-such-file.jsonl");

        var error = Assert.Throws<FileNotFoundException>(() => PreferenceDataset.Load(path))!;

        Assert.That(error.Message, Does.Contain(path));
    }

    [Test]
    public void AnUnrecognisedFileThrowsNamingThePath()
    {
        using var folder = new TempFolder();
        var path = folder.Write("notes.jsonl", """{"question": "what is this?"}""");

        var error = Assert.Throws<DataFormatException>(() => PreferenceDataset.Load(path))!;

        Assert.That(error.Message, Does.StartWith(path).And.Contain("question"));
    }
}
