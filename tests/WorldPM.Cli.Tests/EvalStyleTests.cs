using System.Text.Json;
using WorldPM.Data;

namespace WorldPM.Cli.Tests;

public class EvalStyleTests
{
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    /// <summary>Pairs the test writes: the chosen response has a header in 3 of 4 pairs where they differ.</summary>
    private string WriteStyleData()
    {
        string data = _run.Files.PathOf("style.jsonl");
        File.WriteAllLines(data,
        [
            """{"prompt": "a", "chosen": "# title\nbody", "rejected": "body"}""",
            """{"prompt": "b", "chosen": "# title\nbody", "rejected": "body text"}""",
            """{"prompt": "c", "chosen": "## t\nx", "rejected": "y"}""",
            """{"prompt": "d", "chosen": "plain", "rejected": "# head\nplain"}""",
            """{"prompt": "e", "chosen": "same", "rejected": "same too"}""",
        ]);
        return data;
    }

    private string Prepare(string data)
    {
        string store = _run.Files.PathOf($"{Guid.NewGuid():N}.store");
        Worldpm.Succeed("prepare", data, "--out", store, "--max-length", "128");
        return store;
    }

    private JsonElement Report(string data, params string[] more) =>
        JsonDocument.Parse(Worldpm.Succeed(["eval", _run.Checkpoint, data, "--max-length", "128", "--json", .. more]).Output).RootElement;

    [Test]
    public void JsonHasAStyleSectionWhoseLabelSharesMatchTheData()
    {
        string png = _run.Files.PathOf("style.png");
        JsonElement style = Report(WriteStyleData(), "--style-plot", png).GetProperty("style");
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
    public void AStoreGivesTheStyleReportOfItsRawData()
    {
        string data = WriteStyleData();
        JsonElement raw = Report(data, "--style"), stored = Report(Prepare(data), "--style");
        Assert.That(stored.GetProperty("style").GetProperty("features").GetProperty("headers").GetProperty("pairs_differing").GetInt32(),
            Is.EqualTo(4));
        Assert.That(stored.GetProperty("style").ToString(), Is.EqualTo(raw.GetProperty("style").ToString()));
    }

    [Test]
    public void AStoreFromBeforeTheStyleCountsEvaluatesButRefusesStyleNamingIt()
    {
        string data = WriteStyleData(), current = Prepare(data), old = Prepare(data);
        WithoutStyleSection(old);

        Assert.That(Report(old).GetProperty("overall").ToString(), Is.EqualTo(Report(current).GetProperty("overall").ToString()));
        CliResult refused = Worldpm.Run("eval", _run.Checkpoint, old, "--max-length", "128", "--style");
        Assert.That(refused.ExitCode, Is.EqualTo(Cli.Usage), refused.ToString);
        Assert.That(refused.Error, Does.Contain($"token store '{old}'").And.Contain("prepare it again"));
    }

    /// <summary>Makes <paramref name="store"/> what a worldpm from before the style counts wrote: format version 1, the
    /// style section cut out and the header's later offsets and length moved back by its size.</summary>
    private static void WithoutStyleSection(string store)
    {
        byte[] bytes = File.ReadAllBytes(store);
        var h = TokenStoreFormat.Header.ReadFrom(bytes);
        long styleBytes = h.Pairs * TokenStoreFormat.StyleRecordBytes;
        Assert.That(h.MetadataAt, Is.EqualTo(h.StyleAt + styleBytes), "the style section sits just before the metadata");
        byte[] old = [.. bytes[..(int)h.StyleAt], .. bytes[(int)(h.StyleAt + styleBytes)..]];
        (h with { Version = 1, StyleAt = 0, MetadataAt = h.StyleAt, FileBytes = old.Length }).WriteTo(old);
        File.WriteAllBytes(store, old);
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
