using System.Text.Json;

namespace WorldPM.Cli.Tests;

/// <summary>
/// <c>worldpm profile</c> from the command line: the <c>--json</c> contract (one line per kernel, then the step's
/// estimate), the roofline arithmetic checked from the printed numbers alone, and its usage errors. The counters
/// themselves are checked against analytic bytes and FLOPs in the native emulator tests; W1 (one GELU over 64 Ki
/// elements in its quick shape) keeps this to about a second.
/// </summary>
[BackendNeutral]  // names its backends itself: WORLDPM_BACKEND changes nothing for it
public class ProfileCommandTests
{
    // Peak DRAM bandwidth from the vendors' datasheets (bytes/s), written here independently of the command's table.
    private static readonly Dictionary<string, double> PublishedBandwidth = new()
    {
        ["A100 80GB"] = 2.039e12, ["H100 SXM"] = 3.35e12, ["H200"] = 4.8e12,
    };

    private static readonly string[] KernelFields =
        ["kernel", "launches", "bytes_read", "bytes_written", "min_bytes", "flops", "est_ms"];

    private static JsonElement[] JsonLines(CliResult result) =>
        [.. result.OutputLines.Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    [Test]
    public void JsonGivesOneLinePerKernelThenTheStepEstimateTheyAddUpTo()
    {
        JsonElement[] lines = JsonLines(Worldpm.Succeed("profile", "--backend", "emu", "--quick", "--json", "--workload", "W1"));

        JsonElement[] kernels = lines[..^1], last = [lines[^1]];
        JsonElement step = last[0];
        Assert.That(kernels, Is.Not.Empty, "W1 launches at least its GELU kernel");
        Assert.That(step.GetProperty("estimate").GetBoolean(), Is.True, "the last line says the times are an estimate");
        Assert.That(step.GetProperty("id").GetString(), Is.EqualTo("W1"));
        foreach (JsonElement k in kernels)
            foreach (string field in KernelFields)
                Assert.That(k.TryGetProperty(field, out _), Is.True, $"{field} in {k}");
        foreach (string gpu in PublishedBandwidth.Keys)
        {
            double sum = kernels.Sum(k => k.GetProperty("est_ms").GetProperty(gpu).GetDouble());
            Assert.That(step.GetProperty("est_step_ms").GetProperty(gpu).GetDouble(), Is.EqualTo(sum).Within(1e-9).Percent,
                $"{gpu}: the step is the sum of its kernels");
        }
    }

    [Test]
    public void NoKernelIsEstimatedFasterThanItsBytesAtPeakBandwidth()
    {
        JsonElement[] kernels = JsonLines(Worldpm.Succeed("profile", "--backend", "emu", "--quick", "--json", "--workload", "W1"))[..^1];

        foreach (JsonElement k in kernels)
        {
            double bytes = k.GetProperty("bytes_read").GetDouble() + k.GetProperty("bytes_written").GetDouble();
            foreach (var (gpu, bandwidth) in PublishedBandwidth)
                Assert.That(k.GetProperty("est_ms").GetProperty(gpu).GetDouble() * 1e-3, Is.GreaterThanOrEqualTo(bytes / bandwidth * 0.999),
                    $"{k.GetProperty("kernel").GetString()} on {gpu}");
        }
    }

    [Test]
    public void TheGeluKernelMovesItsMinimumBytes()
    {
        // GELU reads each element once and writes it once: with no reuse to miss, the counted bytes are the minimum.
        JsonElement gelu = JsonLines(Worldpm.Succeed("profile", "--backend", "emu", "--quick", "--json", "--workload", "W1"))
            .Single(l => l.TryGetProperty("kernel", out JsonElement name) && name.GetString()!.StartsWith("gelu_fwd", StringComparison.Ordinal));

        long read = gelu.GetProperty("bytes_read").GetInt64(), written = gelu.GetProperty("bytes_written").GetInt64();
        Assert.That(read, Is.EqualTo(written), "one fp32 element in, one out");
        Assert.That(read + written, Is.EqualTo(gelu.GetProperty("min_bytes").GetInt64()));
    }

    [Test]
    public void TheTextTableSaysItIsAnEstimateAndNamesEachGpusSource()
    {
        CliResult result = Worldpm.Succeed("profile", "--backend", "emu", "--quick", "--workload", "W1");

        Assert.That(result.Output, Does.Contain("ESTIMATE").And.Contain("not measurements"));
        foreach (string gpu in PublishedBandwidth.Keys) Assert.That(result.Output, Does.Contain($"  {gpu}: "), gpu);
    }

    [TestCase("cpu", "W1", "--backend emu")]
    [TestCase("emu", "W9", "--workload")]
    public void UsageErrorsNameTheOption(string backend, string workload, string named)
    {
        CliResult result = Worldpm.Run("profile", "--backend", backend, "--quick", "--workload", workload);

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString);
        Assert.That(result.Error, Does.Contain(named));
        Assert.That(result.Output, Is.Empty, "nothing is printed before the error");
    }
}
