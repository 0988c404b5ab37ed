using System.Text.Json;

namespace WorldPM.Cli.Tests;

/// <summary><c>worldpm train --loss NAME [--margin-from FIELD] [--label-smoothing E]</c>: each loss trains from the
/// command line, and bad loss options are one-line usage errors naming the option.</summary>
public class LossOptionsTests
{
    // The data and config are read only: written once for the fixture; each test trains into a run folder of its own.
    private TestFiles _shared = null!;
    private string _gradedPairs = null!;
    private string _tinyConfig = null!;

    [OneTimeSetUp]
    public void WriteGradedPairs()
    {
        _shared = new TestFiles();
        // Generic JSONL pairs with a graded number field "gap" (0 to 0.4) for --margin-from.
        _gradedPairs = _shared.WriteGradedPairs("graded.jsonl", 24);
        _tinyConfig = _shared.WriteTinyConfig();
    }

    [OneTimeTearDown]
    public void DeleteGradedPairs() => _shared.Dispose();

    private string RunFolder => _shared.PathOf("run-" + TestContext.CurrentContext.Test.ID);

    private string MetricsFile => RunFolder + ".metrics.jsonl";

    private string[] Train(params string[] more) =>
    [
        "train", _gradedPairs, "--out", RunFolder, "--config", _tinyConfig, "--max-length", "64",
        .. more.Contains("--steps") ? Array.Empty<string>() : ["--steps", "2"],
        "--batch", "4", "--metrics", MetricsFile, .. more,
    ];

    [TestCase("bt-margin", "--margin-from", "gap")]
    [TestCase("hinge", "--margin-from", "gap")]
    [TestCase("hinge")]
    [TestCase("bt-smooth", "--label-smoothing", "0.1")]
    public void EachLossTrainsFromTheCommandLine(string loss, params string[] more)
    {
        CliResult result = Worldpm.Succeed(Train(["--loss", loss, .. more]));

        Assert.That(result.Output, Does.Contain($"loss {loss}"));
        if (more.Contains("gap")) Assert.That(result.Output, Does.Contain("with margins from gap"));
        double[] losses = [.. File.ReadAllLines(MetricsFile)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "step")
            .Select(e => e.GetProperty("loss").GetDouble())];
        Assert.That(losses, Has.Length.EqualTo(2).And.All.Matches<double>(double.IsFinite));
    }

    [TestCase(new[] { "--loss", "bt-smooth", "--label-smoothing", "-0.1" }, "--label-smoothing is -0.1; it must be in [0, 0.5)")]
    [TestCase(new[] { "--loss", "bt-smooth", "--label-smoothing", "0.5" }, "--label-smoothing is 0.5; it must be in [0, 0.5)")]
    [TestCase(new[] { "--loss", "focal" }, "--loss is focal; it must be one of bt, bt-margin, bt-smooth, hinge")]
    [TestCase(new[] { "--loss", "hinge", "--label-smoothing", "0.1" }, "--label-smoothing applies to --loss bt-smooth only, not --loss hinge")]
    [TestCase(new[] { "--margin-from", "gap" }, "--margin-from applies to the margin losses (bt-margin, hinge), not --loss bt")]
    [TestCase(new[] { "--loss", "bt-margin", "--margin-from", "votes" }, "--margin-from votes: 24 of 24 training pairs carry no 'votes'")]
    public void BadLossOptionsAreOneLineUsageErrorsNamingTheOption(string[] options, string message)
    {
        CliResult result = Worldpm.Run(Train(options));

        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage), result.ToString);
        Assert.That(result.Error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), result.ToString);
        Assert.That(result.Error, Does.StartWith("worldpm: ").And.Contain(message));
    }

    [Test]
    public void ResumingWithAnotherLossIsRefusedNamingTheOption()
    {
        Worldpm.Succeed(Train("--loss", "hinge"));

        CliResult result = Worldpm.Run(Train("--loss", "bt", "--resume", "--steps", "3"));

        Assert.That(result.ExitCode, Is.EqualTo(Cli.Failure), result.ToString);
        Assert.That(result.Error, Does.Contain("--loss hinge then, bt now").And.Contain("--resume-anyway"));
        Worldpm.Succeed(Train("--loss", "hinge", "--resume", "--steps", "3"));
    }

    [Test]
    public void InfoNamesTheIlgpuAccelerators()
    {
        CliResult result = Worldpm.Succeed("info");
        Assert.That(result.Output.Split('\n').Single(line => line.StartsWith("ilgpu ", StringComparison.Ordinal)),
            Does.Contain("CPU: ").And.Contain("train --loss"));
    }
}
