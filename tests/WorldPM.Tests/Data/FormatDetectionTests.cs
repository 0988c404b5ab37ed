using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class FormatDetectionTests
{
    private const string GenericLine = """{"prompt": "p", "chosen": "good", "rejected": "bad"}""";

    [TestCase(GenericLine, DataFormat.GenericJson)]
    [TestCase("""{"chosen": [{"role": "user", "content": "p"}, {"role": "assistant", "content": "a"}], "rejected": []}""", DataFormat.GenericJson)]
    [TestCase("""{"chosen": "\n\nHuman: p\n\nAssistant: a", "rejected": "\n\nHuman: p\n\nAssistant: b"}""", DataFormat.HhRlhf)]
    [TestCase("""{"prompt": "p", "response": "a", "helpfulness": 3}""", DataFormat.HelpSteer)]
    [TestCase("""{"info": {"post": "p"}, "summaries": [], "choice": 0}""", DataFormat.SummarizeFromFeedback)]
    [TestCase("""[{"input": "p", "output_1": "a", "output_2": "b", "label": 1}]""", DataFormat.LlmBar)]
    [TestCase("""<?xml version="1.0" encoding="utf-8"?><posts><row Id="1" PostTypeId="1" /></posts>""", DataFormat.StackExchange)]
    [TestCase("""{"question": "q", "answers": ["a", "b"], "judgments": [[0, 1, 0]]}""", DataFormat.AnswerRankings)]
    [TestCase("""{"prompt": "q", "responses": ["a", "b"], "comparisons": []}""", DataFormat.AnswerRankings)]
    [TestCase("prompt,chosen,rejected\np,a,b\n", DataFormat.Csv)]
    [TestCase("id,prompt,completion_a,completion_b,winner\r\n1,p,a,b,tie\r\n", DataFormat.Csv)]
    public void DetectsTheFormatFromTheContentNotTheName(string content, DataFormat format)
    {
        using var folder = new TempFolder();

        Assert.That(PreferenceDataset.DetectFormat(folder.Write("data.txt", content)), Is.EqualTo(format));
    }

    [Test]
    public void DetectionLooksPastABadFirstLine()
    {
        using var folder = new TempFolder();

        Assert.That(PreferenceDataset.DetectFormat(folder.Write("data.jsonl", "{oops\n" + GenericLine)), Is.EqualTo(DataFormat.GenericJson));
    }

    [Test]
    public void AnExplicitFormatOverridesDetection()
    {
        using var folder = new TempFolder();
        var path = folder.Write("scores.jsonl", """{"prompt": "p", "response": "a", "score": 3}""");

        var result = PreferenceDataset.Load(path, new DataLoadOptions { Format = DataFormat.GenericJson });

        Assert.That(result.Files.Single().Format, Is.EqualTo(DataFormat.GenericJson));
        Assert.That(result.BadRecords.Single().Reason, Is.EqualTo("missing field \"chosen\""));
    }

    [Test]
    public void GzipIsReadTransparentlyWhateverTheExtension()
    {
        using var folder = new TempFolder();
        var named = folder.WriteGzip("pairs.jsonl.gz", GenericLine);
        var unnamed = folder.WriteGzip("pairs.jsonl", GenericLine);

        foreach (var path in new[] { named, unnamed })
        {
            var pair = PreferenceDataset.Load(path).Pairs.Single();
            Assert.That((pair.Prompt[0].Content, pair.Chosen, pair.Rejected), Is.EqualTo(("p", "good", "bad")), path);
        }
    }

    [Test]
    public void ADirectoryLoadsItsDataFilesAndListsTheOthers()
    {
        using var folder = new TempFolder();
        folder.Write("a/one.jsonl", GenericLine);
        folder.WriteGzip("b/two.json.gz", GenericLine);
        folder.Write("notes.txt", "not data");

        var result = PreferenceDataset.Load(folder.Path);

        Assert.That(result.Pairs, Has.Count.EqualTo(2));
        Assert.That(result.IgnoredFiles.Select(Path.GetFileName), Is.EqualTo(new[] { "notes.txt" }));
    }

    [Test]
    public void AnUnrecognisedFileInADirectoryIsABadRecordAndTheOthersStillLoad()
    {
        using var folder = new TempFolder();
        folder.Write("pairs.jsonl", GenericLine);
        var config = folder.Write("config.json", """{"learning_rate": 0.001}""");

        var result = PreferenceDataset.Load(folder.Path);

        Assert.That(result.Pairs, Has.Count.EqualTo(1));
        Assert.That(result.BadRecords.Single().Location, Is.EqualTo(new RecordLocation(config)));
        Assert.That(result.BadRecords.Single().Reason, Does.Contain("learning_rate"));
    }
}
