using System.Globalization;
using System.Text.Json;

namespace WorldPM.Cli.Tests;

public class EvalCommandTests
{
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    /// <summary>The pairs per subset of the generated file, counted from the file itself.</summary>
    private Dictionary<string, int> SubsetCounts() =>
        File.ReadLines(_run.Data)
            .GroupBy(line => JsonDocument.Parse(line).RootElement.GetProperty("subset").GetString()!)
            .ToDictionary(g => g.Key, g => g.Count());

    [Test]
    public void PrintsOverallAndPerSubsetNumbers()
    {
        CliResult result = Worldpm.Succeed("eval", _run.Checkpoint, _run.Data, "--max-length", "128");

        Assert.That(result.Output, Does.Match($@"overall: {TrainedRun.Pairs} pairs, accuracy [\d.]+ %, mean BT loss [\d.]+, mean margin -?[\d.]+"));
        foreach (var (subset, count) in SubsetCounts())
            Assert.That(result.OutputLines, Has.Some.Match($@"^{subset}\s+{count}\s+[\d.]+ %\s+[\d.]+\s+-?[\d.]+$"));
        Assert.That(result.OutputLines, Has.Some.Match(@"^chosen shorter\s+\d+\s"));
        Assert.That(result.OutputLines, Has.Some.Match(@"^chosen longer\s+\d+\s"));
    }

    [Test]
    public void JsonHasTheOverallSubsetAndLengthBiasNumbersWithPairCounts()
    {
        CliResult result = Worldpm.Succeed("eval", _run.Checkpoint, _run.Data, "--max-length", "128", "--json");

        JsonElement json = JsonDocument.Parse(result.Output).RootElement;
        JsonElement overall = json.GetProperty("overall");
        Assert.That(overall.GetProperty("pairs").GetInt32(), Is.EqualTo(TrainedRun.Pairs));
        Assert.That(overall.GetProperty("accuracy").GetDouble(), Is.InRange(0.0, 1.0));
        Assert.That(double.IsFinite(overall.GetProperty("loss").GetDouble()) && double.IsFinite(overall.GetProperty("margin").GetDouble()));
        var subsets = json.GetProperty("subsets").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetProperty("pairs").GetInt32());
        Assert.That(subsets, Is.EquivalentTo(SubsetCounts()));
        JsonElement bias = json.GetProperty("length_bias");
        int shorter = bias.GetProperty("chosen_shorter").GetProperty("pairs").GetInt32();
        int longer = bias.GetProperty("chosen_longer").GetProperty("pairs").GetInt32();
        Assert.That(shorter, Is.GreaterThan(0));
        Assert.That(longer, Is.GreaterThan(0));
        Assert.That(shorter + longer, Is.LessThanOrEqualTo(TrainedRun.Pairs));
    }

    /// <summary>
    /// A Wilson bound found apart from the code under test: bisection for the p on one side of the observed accuracy where
    /// the observed one is exactly z standard errors (of p) away, (acc - p)² = z² p (1 - p) / n.
    /// </summary>
    private static double WilsonBoundByBisection(double accuracy, int n, bool upper)
    {
        const double z = 1.959963984540054;
        double Excess(double p) => (accuracy - p) * (accuracy - p) - z * z * p * (1 - p) / n;  // > 0 outside the interval
        double inside = accuracy, outside = upper ? 1.0 : 0.0;
        if (Excess(outside) <= 0) return outside;
        for (int i = 0; i < 200; i++)
        {
            double middle = (inside + outside) / 2;
            if (Excess(middle) > 0) outside = middle; else inside = middle;
        }
        return (inside + outside) / 2;
    }

    [Test]
    public void TheAccuracyComesWithItsIntervalAndSaysWhenItIsWithinNoiseOfChance()
    {
        CliResult json = Worldpm.Succeed("eval", _run.Checkpoint, _run.Data, "--max-length", "128", "--json");
        CliResult text = Worldpm.Succeed("eval", _run.Checkpoint, _run.Data, "--max-length", "128");

        JsonElement root = JsonDocument.Parse(json.Output).RootElement;
        foreach (JsonElement metrics in new[] { root.GetProperty("overall") }.Concat(root.GetProperty("subsets").EnumerateObject().Select(p => p.Value)))
        {
            double accuracy = metrics.GetProperty("accuracy").GetDouble();
            int pairs = metrics.GetProperty("pairs").GetInt32();
            double low = metrics.GetProperty("accuracy_ci_low").GetDouble(), high = metrics.GetProperty("accuracy_ci_high").GetDouble();
            Assert.That(low, Is.EqualTo(WilsonBoundByBisection(accuracy, pairs, upper: false)).Within(1e-9), $"{metrics}");
            Assert.That(high, Is.EqualTo(WilsonBoundByBisection(accuracy, pairs, upper: true)).Within(1e-9), $"{metrics}");
            Assert.That(metrics.GetProperty("within_noise_of_chance").GetBoolean(), Is.EqualTo(low <= 0.5 && 0.5 <= high), $"{metrics}");
        }
        JsonElement overall = root.GetProperty("overall");
        string verdict = overall.GetProperty("within_noise_of_chance").GetBoolean() ? "within noise of chance"
            : overall.GetProperty("accuracy_ci_low").GetDouble() > 0.5 ? "above chance" : "below chance";
        string interval = string.Create(CultureInfo.InvariantCulture, $"accuracy 95 % interval {overall.GetProperty("accuracy_ci_low").GetDouble():P1} to " +
            $"{overall.GetProperty("accuracy_ci_high").GetDouble():P1} (Wilson): {verdict}");
        Assert.That(text.OutputLines, Has.Some.StartsWith(interval), text.Output);
    }

    [Test]
    public void ARunDirectoryIsEvaluatedAtItsLatestCheckpoint()
    {
        CliResult result = Worldpm.Succeed("eval", _run.RunDirectory, _run.Data, "--max-length", "128", "--json");

        Assert.That(JsonDocument.Parse(result.Output).RootElement.GetProperty("model").GetString(), Is.EqualTo(Path.GetFullPath(_run.Checkpoint)));
    }

    [Test, BackendNeutral]
    public void TheLlmBarFolderIsReportedPerSubsetWithTheReadmeCounts()
    {
        string llmbar = SharedData.PathOf("llmbar");
        Assert.That(llmbar, Does.Exist, $"the data folder is there but has no LLMBar: expected it at {llmbar}");

        CliResult result = Worldpm.Succeed("eval", _run.Checkpoint, llmbar, "--max-length", "128");

        var expected = new Dictionary<string, int>
        {
            ["Natural"] = 100, ["Adversarial/Neighbor"] = 134, ["Adversarial/GPTInst"] = 92, ["Adversarial/GPTOut"] = 47, ["Adversarial/Manual"] = 46,
        };
        foreach (var (subset, count) in expected)
            Assert.That(result.OutputLines, Has.Some.Match($@"^{subset}\s+{count}\s+[\d.]+ %"), $"subset {subset} with {count} pairs\n{result.Output}");
        Assert.That(result.Output, Does.Contain("overall: 419 pairs"));
    }
}
