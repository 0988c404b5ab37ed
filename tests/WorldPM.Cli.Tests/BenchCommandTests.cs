using System.Text.Json;

namespace WorldPM.Cli.Tests;

/// <summary>
/// <c>worldpm bench</c> as a smoke test: a quick run (shrunken shapes, one repetition) reports every workload and both
/// ceilings as parseable JSON with sane numbers; the options select and validate. No timing is asserted: the
/// numbers of a quick run on a shared CI machine mean nothing.
/// </summary>
public class BenchCommandTests
{
    private static JsonElement[] JsonLines(CliResult result) =>
        result.OutputLines.Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToArray();

    private static string[] Ids(JsonElement[] lines) => lines.Select(l => l.GetProperty("id").GetString()!).Distinct().ToArray();

    [Test]
    public void AQuickJsonRunReportsEveryWorkloadAndBothCeilingsWithFiniteNumbers()
    {
        JsonElement[] lines = JsonLines(Worldpm.Succeed("bench", "--quick", "--json"));

        Assert.That(Ids(lines), Is.SupersetOf(new[] { "W1", "W2", "W3", "W4", "W5", "ceiling", "peak_rss" }));
        Assert.That(lines.Where(l => l.GetProperty("id").GetString() == "ceiling").Select(l => l.GetProperty("metric").GetString()),
            Is.EquivalentTo(new[] { "copy_gbps", "gemm_gflops" }));
        foreach (JsonElement line in lines.Where(l => l.TryGetProperty("median", out _)))
        {
            double median = line.GetProperty("median").GetDouble();
            Assert.That(double.IsFinite(median) && median > 0, Is.True, line.ToString());
            Assert.That(line.GetProperty("quick").GetBoolean(), Is.True, "a quick run says so on every line");
        }
        foreach (JsonElement line in lines.Where(l => l.GetProperty("id").GetString()!.StartsWith('W')))
            Assert.That(double.IsFinite(line.GetProperty("fraction_of_ceiling").GetDouble()), Is.True, line.ToString());
    }

    [Test]
    public void OnlyRunsTheNamedWorkloadsBesideTheCeilings()
    {
        JsonElement[] lines = JsonLines(Worldpm.Succeed("bench", "--quick", "--json", "--only", "W1"));

        Assert.That(Ids(lines), Is.EquivalentTo(new[] { "ceiling", "W1", "peak_rss" }));
    }

    [Test]
    public void Bf16AddsABf16PartToW4AndW5WithItsSpeedupOverFp32()
    {
        JsonElement[] lines = JsonLines(Worldpm.Succeed("bench", "--quick", "--json", "--bf16", "--only", "W4,W5"));

        string[] parts = lines.Where(l => l.GetProperty("id").GetString()!.StartsWith('W'))
            .Select(l => $"{l.GetProperty("id").GetString()} {l.GetProperty("metric").GetString()}").ToArray();
        Assert.That(parts, Is.EqualTo(new[] { "W4 step_ms", "W4 step_ms_bf16", "W5 score_ms", "W5 score_ms_bf16" }));
        foreach (JsonElement bf16 in lines.Where(l => l.GetProperty("metric").GetString()!.EndsWith("_bf16", StringComparison.Ordinal)))
        {
            double speedup = bf16.GetProperty("speedup_vs_fp32").GetDouble();
            double expected = bf16.GetProperty("fp32_median").GetDouble() / bf16.GetProperty("median").GetDouble();
            Assert.That(speedup, Is.EqualTo(expected).Within(1e-9), bf16.ToString());
        }
    }

    [Test]
    public void TheTableOfAQuickRunIsLabelledAsSuch()
    {
        CliResult result = Worldpm.Succeed("bench", "--quick", "--only", "W1");

        Assert.That(result.Output, Does.Contain("QUICK RUN"));
        Assert.That(result.OutputLines.Count(l => l.StartsWith("W1 ", StringComparison.Ordinal)), Is.EqualTo(2), result.ToString);
    }

    [TestCase("--only", "W9", "unknown workload 'W9'")]
    [TestCase("--only", ",", "--only needs workload ids")]
    [TestCase("--reps", "0", "--reps is 0")]
    public void ABadSelectionIsAOneLineUsageError(string option, string value, string mention)
    {
        CliResult result = Worldpm.Run("bench", "--quick", option, value);

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString);
        string[] errors = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(errors, Has.Length.EqualTo(1), result.ToString);
        Assert.That(errors[0], Does.StartWith("worldpm: ").And.Contain(mention));
        Assert.That(result.Output, Is.Empty, "nothing is measured before the command line is known to be good");
    }
}
