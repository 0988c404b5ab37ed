using System.Text.Json;
using WorldPM.Testing;

namespace WorldPM.Cli.Tests;

/// <summary>
/// The main job on the AVX2-only code paths (<c>WORLDPM_CPU_MAX_ISA=avx2</c>, as on a host without AVX-512): the
/// same 98 % held-out line that EmbeddedDemoTests holds on this host's widest paths. A child process, since the
/// native library reads the cap once, when it starts.
/// </summary>
public class DemoCommandTests
{
    [Convergence]
    [Test]
    public void DefaultDemoReaches98PercentHeldOutOnTheAvx2Paths()
    {
        // 1000 steps: 20-40 s on two idle cores; the limit is for a hang, not a speed target.
        CliResult result = WorldpmProcess.RunWithin(TimeSpan.FromMinutes(10),
            new Dictionary<string, string> { ["WORLDPM_CPU_MAX_ISA"] = "avx2", ["WORLDPM_BACKEND"] = "cpu" }, "demo", "--json");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
        using JsonDocument last = JsonDocument.Parse(result.OutputLines.Last(line => line.StartsWith('{')));
        double accuracy = last.RootElement.GetProperty("heldout_accuracy").GetDouble();
        TestContext.Out.WriteLine($"held-out accuracy on the avx2 paths: {accuracy:P2}");
        Assert.That(accuracy, Is.GreaterThanOrEqualTo(0.98), result.ToString);
        Assert.That(last.RootElement.GetProperty("heldout_pairs").GetInt32(), Is.EqualTo(600));
    }
}
