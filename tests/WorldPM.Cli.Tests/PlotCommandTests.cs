namespace WorldPM.Cli.Tests;

[BackendNeutral]
public class PlotCommandTests
{
    [Test]
    public void TrainingMetricsBecomeThreePngCurves()
    {
        using var files = new TestFiles();
        string metrics = files.PathOf("metrics.jsonl");
        Worldpm.Succeed("train", files.WritePairs("pairs.jsonl", 40), "--out", files.PathOf("run"), "--config",
            files.WriteTinyConfig(), "--max-length", "128", "--steps", "6", "--batch", "4", "--eval-fraction", "0.25",
            "--eval-every", "3", "--metrics", metrics, "--quiet");

        CliResult result = Worldpm.Succeed("plot", metrics, "--out", files.PathOf("plots"));

        Assert.That(result.Output, Does.Contain("6 steps, 2 evaluations"));
        foreach (string name in new[] { "loss.png", "accuracy.png", "grad_norm.png" })
        {
            byte[] png = File.ReadAllBytes(files.PathOf(Path.Combine("plots", name)));
            Assert.That(png.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), name);
        }
        Assert.That(Directory.GetFiles(files.PathOf("plots"), "*.tmp.png"), Is.Empty);
    }

    [Test]
    public void MissingMetricsFileIsAUsageError()
    {
        CliResult result = Worldpm.Run("plot", "no-such-metrics.jsonl", "--out", Path.GetTempPath());
        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage));
        Assert.That(result.Error.Trim(), Does.Contain("no-such-metrics.jsonl").And.Not.Contain("\n"));
    }

    [Test]
    public void MalformedLineIsNamedByFileAndLine()
    {
        using var files = new TestFiles();
        string metrics = files.PathOf("bad.jsonl");
        File.WriteAllLines(metrics, ["{\"type\":\"step\",\"step\":1,\"loss\":0.69}", "not json"]);
        CliResult result = Worldpm.Run("plot", metrics, "--out", files.PathOf("plots"));
        Assert.That(result.ExitCode, Is.EqualTo(Cli.Failure));
        Assert.That(result.Error, Does.Contain("bad.jsonl:2"));
    }
}
