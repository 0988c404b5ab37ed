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

    [Test, BackendNeutral]
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

    private static readonly string[] PerStepFields =
        ["host_waits_per_step", "d2h_copies_per_step", "h2d_copies_per_step", "launches_per_step", "gemms_per_step"];

    // On emu the training step and the scoring forward report what one step asked of the device; a step runs kernels
    // and GEMMs and reads its metrics back at least once. The cpu lines have no device to count.
    [Test, BackendNeutral]  // --backend emu: the same run in either pass
    public void OnEmuW4AndW5CountTheirHostWaitsCopiesLaunchesAndGemmsPerStep()
    {
        JsonElement[] lines = JsonLines(Worldpm.Succeed("bench", "--backend", "emu", "--quick", "--json", "--only", "W4,W5"));

        JsonElement[] steps = [.. lines.Where(l => l.GetProperty("id").GetString() is "W4" or "W5")];
        Assert.That(steps.Select(l => l.GetProperty("metric").GetString()),
            Is.EqualTo(new[] { "step_ms", "score_ms", "score_ms_batch_invariant" }));
        foreach (JsonElement step in steps)
        {
            Dictionary<string, long> counted = PerStepFields.ToDictionary(f => f, f => step.GetProperty(f).GetInt64());
            Assert.That(counted["launches_per_step"], Is.GreaterThan(0), step.ToString());
            Assert.That(counted["gemms_per_step"], Is.GreaterThan(0), step.ToString());
            Assert.That(counted["host_waits_per_step"], Is.GreaterThanOrEqualTo(1), step.ToString());
            Assert.That(counted["d2h_copies_per_step"], Is.GreaterThanOrEqualTo(1), step.ToString());
            Assert.That(counted["host_waits_per_step"], Is.LessThanOrEqualTo(
                counted["d2h_copies_per_step"] + counted["h2d_copies_per_step"] + 1), "every wait is a copy's or the step's one sync");
            // Ids, indices and lengths are checked into the device error word, not read back: scoring waits once (its
            // rewards), and a training step once (its metrics, the overflow flag and the gradient norm together).
            Assert.That(counted["host_waits_per_step"], Is.LessThanOrEqualTo(1), step.ToString());
        }
        JsonElement[] cpu = JsonLines(Worldpm.Succeed("bench", "--backend", "cpu", "--quick", "--json", "--only", "W5"));
        Assert.That(cpu.Where(l => l.GetProperty("id").GetString() == "W5").SelectMany(l => PerStepFields.Where(f => l.TryGetProperty(f, out _))),
            Is.Empty);
    }

    [Test]
    public void OnlyRunsTheNamedWorkloadsBesideTheCeilings()
    {
        JsonElement[] lines = JsonLines(Worldpm.Succeed("bench", "--quick", "--json", "--only", "W1"));

        Assert.That(Ids(lines), Is.EquivalentTo(new[] { "ceiling", "W1", "peak_rss" }));
    }

    [Test, BackendNeutral]
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

    [Test, BackendNeutral]
    public void W4vAndW5vReportPackedAgainstPaddedWithTheIdealSpeedup()
    {
        JsonElement[] lines = JsonLines(Worldpm.Succeed("bench", "--quick", "--json", "--only", "W4v,W5v"));

        JsonElement[] parts = [.. lines.Where(l => l.GetProperty("id").GetString()!.StartsWith('W'))];
        Assert.That(parts.Select(l => l.GetProperty("id").GetString()), Is.EqualTo(new[] { "W4v", "W5v" }));
        foreach (JsonElement part in parts)
        {
            double real = part.GetProperty("real_tokens").GetDouble(), padded = part.GetProperty("padded_tokens").GetDouble();
            Assert.That(real, Is.GreaterThan(0).And.LessThanOrEqualTo(padded), part.ToString());
            Assert.That(part.GetProperty("ideal_speedup").GetDouble(), Is.EqualTo(padded / real).Within(1e-12), part.ToString());
            Assert.That(part.GetProperty("speedup_vs_padded").GetDouble(),
                Is.EqualTo(part.GetProperty("padded_median").GetDouble() / part.GetProperty("median").GetDouble()).Within(1e-9));
            Assert.That(part.GetProperty("real_tokens_per_s").GetDouble(),
                Is.EqualTo(real / (part.GetProperty("median").GetDouble() * 1e-3)).Within(1e-6).Percent);
            Assert.That(part.GetProperty("target_fraction_of_ideal").GetDouble(), Is.EqualTo(0.85));
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
