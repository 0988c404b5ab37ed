using System.Text.Json;
using SkiaSharp;

namespace WorldPM.Cli.Tests;

/// <summary><c>worldpm plot --bench</c>: the fractions of <c>worldpm bench --json</c> runs as one bar chart.</summary>
public class BenchPlotTests
{
    private static string Line(string id, string metric, double? fraction, double? target, bool quick = false) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = id, ["metric"] = metric, ["reps"] = 20, ["quick"] = quick, ["median"] = 1.5,
            ["fraction_of_ceiling"] = fraction, ["target_fraction"] = target,
        });

    private static string Ceiling() => """{"id":"ceiling","metric":"copy_gbps","reps":20,"quick":false,"median":44.1,"max":45.0}""";

    private static string PeakRss() => """{"id":"peak_rss","metric":"peak_rss_mib","reps":20,"quick":false,"value":171.5,"scope":"process"}""";

    [Test]
    public void ARealQuickRunAndAFullRunBecomeOneValidPng()
    {
        using var files = new TestFiles();
        string quick = files.PathOf("quick.jsonl"), full = files.PathOf("full.jsonl");
        File.WriteAllText(quick, Worldpm.Succeed("bench", "--quick", "--json", "--only", "W1,W3").Output);
        File.WriteAllLines(full, [Ceiling(), Line("W1", "fwd_ms", 0.81, 0.70), Line("W1", "bwd_ms", 0.84, 0.70),
            Line("W2", "fwd_ms", 0.48, 0.50), Line("W2", "bwd_ms", 0.52, 0.40), Line("W3", "fwd_bwd_ms", 0.66, 0.60),
            Line("W3", "fwd_bwd_rows_ms", 1.63, 0.60), Line("W4", "step_ms", 0.55, 0.75), Line("W5", "score_ms", 0.61, 0.80), PeakRss()]);

        CliResult result = Worldpm.Succeed("plot", "--bench", quick, full, "--out", files.PathOf("charts"));

        Assert.That(result.Output, Does.Contain("2 runs, 8 workload parts"));
        string png = files.PathOf(Path.Combine("charts", "fractions.png"));
        using SKBitmap? bitmap = SKBitmap.Decode(png);
        Assert.That(bitmap, Is.Not.Null, "the file decodes as an image");
        Assert.That(File.ReadAllBytes(png).Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
        Assert.That((bitmap!.Width, bitmap.Height), Is.EqualTo((900, 500)));
        Assert.That(Directory.GetFiles(files.PathOf("charts"), "*.tmp.png"), Is.Empty);
    }

    [Test]
    public void EachRunGetsBarsInItsOwnColour()
    {
        using var files = new TestFiles();
        string a = files.PathOf("a.jsonl"), b = files.PathOf("b.jsonl");
        File.WriteAllLines(a, [Line("W1", "fwd_ms", 0.6, 0.7)]);
        File.WriteAllLines(b, [Line("W1", "fwd_ms", 0.9, 0.7)]);

        Worldpm.Succeed("plot", "--bench", a, b, "--out", files.PathOf("charts"));

        using SKBitmap bitmap = SKBitmap.Decode(files.PathOf(Path.Combine("charts", "fractions.png")));
        var palette = new ScottPlot.Palettes.Category10();
        int Pixels(ScottPlot.Color c) => bitmap.Pixels.Count(p => p.Red == c.R && p.Green == c.G && p.Blue == c.B);
        int first = Pixels(palette.GetColor(0)), second = Pixels(palette.GetColor(1)), third = Pixels(palette.GetColor(2));
        Assert.That(first, Is.GreaterThan(1000), "bar of run a");
        Assert.That(second, Is.GreaterThan(first), "run b's bar (0.9) is taller than run a's (0.6)");
        Assert.That(third, Is.Zero, "no third run");
    }

    [Test]
    public void AFileIsReadInOrderSkippingCeilingsAndKeepingTargets()
    {
        using var files = new TestFiles();
        string path = files.PathOf("run.jsonl");
        File.WriteAllLines(path, [Ceiling(), Line("W1", "fwd_ms", 0.75, 0.70, quick: true), "",
            Line("W1", "bwd_ms", null, 0.70, quick: true), Line("W4", "step_ms_bf16", 0.5, 0.75, quick: true), PeakRss()]);

        BenchPlot.Run run = BenchPlot.Read(new FileInfo(path));

        Assert.That(run.Label, Is.EqualTo("run (quick)"));
        Assert.That(run.Order, Is.EqualTo(new[] { "W1 fwd", "W1 bwd", "W4 step_bf16" }));
        Assert.That(run.Parts["W1 fwd"], Is.EqualTo(((double?)0.75, (double?)0.70)));
        Assert.That(run.Parts["W1 bwd"], Is.EqualTo(((double?)null, (double?)0.70)), "a null fraction has no bar");
        Assert.That(run.Parts["W4 step_bf16"], Is.EqualTo(((double?)0.5, (double?)0.75)));
    }

    [Test]
    public void MissingBenchFileIsAUsageErrorNamingIt()
    {
        using var files = new TestFiles();
        string good = files.PathOf("good.jsonl");
        File.WriteAllLines(good, [Line("W1", "fwd_ms", 0.6, 0.7)]);

        CliResult result = Worldpm.Run("plot", "--bench", good, files.PathOf("no-such-run.jsonl"), "--out", files.PathOf("charts"));

        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage), result.ToString);
        Assert.That(result.Error.Trim(), Does.Contain("no-such-run.jsonl").And.Not.Contain("\n"));
        Assert.That(File.Exists(files.PathOf(Path.Combine("charts", "fractions.png"))), Is.False);
    }

    [TestCase("{\"id\":\"W2\",", "not a JSON object")]
    [TestCase("[1, 2]", "not a JSON object")]
    [TestCase("{\"metric\":\"fwd_ms\",\"fraction_of_ceiling\":0.5}", "no \"id\" and \"metric\"")]
    [TestCase("{\"id\":\"W2\",\"metric\":\"fwd_ms\",\"fraction_of_ceiling\":\"high\"}", "\"fraction_of_ceiling\" is not a number")]
    public void BadLineIsNamedByFileAndLine(string bad, string why)
    {
        using var files = new TestFiles();
        string good = files.PathOf("good.jsonl"), broken = files.PathOf("broken.jsonl");
        File.WriteAllLines(good, [Line("W1", "fwd_ms", 0.6, 0.7)]);
        File.WriteAllLines(broken, [Ceiling(), Line("W1", "fwd_ms", 0.6, 0.7), bad]);

        CliResult result = Worldpm.Run("plot", "--bench", good, broken, "--out", files.PathOf("charts"));

        Assert.That(result.ExitCode, Is.EqualTo(Cli.Failure), result.ToString);
        Assert.That(result.Error.Trim(), Does.StartWith($"worldpm: {broken}:3: {why}").And.Not.Contain("\n"));
    }

    [Test]
    public void AFileWithoutWorkloadLinesIsNamed()
    {
        using var files = new TestFiles();
        string ceilingsOnly = files.PathOf("ceilings.jsonl");
        File.WriteAllLines(ceilingsOnly, [Ceiling(), PeakRss()]);

        CliResult result = Worldpm.Run("plot", "--bench", ceilingsOnly, "--out", files.PathOf("charts"));

        Assert.That(result.ExitCode, Is.EqualTo(Cli.Failure), result.ToString);
        Assert.That(result.Error, Does.Contain($"{ceilingsOnly} holds no workload lines"));
    }

    [Test]
    public void MetricsAndBenchTogetherOrNeitherAreUsageErrors()
    {
        using var files = new TestFiles();
        string run = files.PathOf("run.jsonl");
        File.WriteAllLines(run, [Line("W1", "fwd_ms", 0.6, 0.7)]);

        CliResult both = Worldpm.Run("plot", run, "--bench", run, "--out", files.PathOf("charts"));
        CliResult neither = Worldpm.Run("plot", "--out", files.PathOf("charts"));

        Assert.That(both.ExitCode, Is.EqualTo(Cli.Usage), both.ToString);
        Assert.That(both.Error, Does.Contain("not both"));
        Assert.That(neither.ExitCode, Is.EqualTo(Cli.Usage), neither.ToString);
        Assert.That(neither.Error, Does.Contain("--bench"));
    }
}
