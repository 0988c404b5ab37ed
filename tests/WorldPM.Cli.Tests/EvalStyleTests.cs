using System.Text.Json;

namespace WorldPM.Cli.Tests;

public class EvalStyleTests
{
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    [Test]
    public void JsonHasAStyleSectionWhoseLabelSharesMatchTheData()
    {
        // Pairs the test writes: the chosen response has a header in 3 of 4 pairs where they differ.
        string data = _run.Files.PathOf("style.jsonl");
        File.WriteAllLines(data,
        [
            """{"prompt": "a", "chosen": "# title\nbody", "rejected": "body"}""",
            """{"prompt": "b", "chosen": "# title\nbody", "rejected": "body text"}""",
            """{"prompt": "c", "chosen": "## t\nx", "rejected": "y"}""",
            """{"prompt": "d", "chosen": "plain", "rejected": "# head\nplain"}""",
            """{"prompt": "e", "chosen": "same", "rejected": "same too"}""",
        ]);
        string png = _run.Files.PathOf("style.png");
        CliResult result = Worldpm.Succeed("eval", _run.Checkpoint, data, "--json", "--style-plot", png);
        JsonElement style = JsonDocument.Parse(result.Output).RootElement.GetProperty("style");
        Assert.That(style.GetProperty("pairs").GetInt32(), Is.EqualTo(5));
        JsonElement headers = style.GetProperty("features").GetProperty("headers");
        Assert.That(headers.GetProperty("pairs_differing").GetInt32(), Is.EqualTo(4));
        Assert.That(headers.GetProperty("humans_prefer_more").GetDouble(), Is.EqualTo(0.75));
        Assert.That(headers.GetProperty("buckets").EnumerateArray().Select(b => b.GetProperty("pairs").GetInt32()), Is.EqualTo(new[] { 0, 1, 1, 3, 0 }));
        JsonElement chars = style.GetProperty("features").GetProperty("characters");
        Assert.That(chars.GetProperty("chosen_mean").GetDouble(), Is.EqualTo((12 + 12 + 6 + 5 + 4) / 5.0));
        Assert.That(File.ReadAllBytes(png).Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
    }

    [Test]
    public void TextHasTheStyleTableOnlyWhenAsked()
    {
        CliResult plain = Worldpm.Succeed("eval", _run.Checkpoint, _run.Data, "--max-length", "128");
        CliResult styled = Worldpm.Succeed("eval", _run.Checkpoint, _run.Data, "--max-length", "128", "--style");
        Assert.That(plain.Output, Does.Not.Contain("style ("));
        Assert.That(styled.OutputLines, Has.Some.Match(@"^tokens\s+[\d.]+\s+[\d.]+\s+\d+\s"));
        Assert.That(styled.Output, Does.StartWith(plain.Output.Split("model ")[0]));
    }
}
