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

    [Test]
    public void ARunDirectoryIsEvaluatedAtItsLatestCheckpoint()
    {
        CliResult result = Worldpm.Succeed("eval", _run.RunDirectory, _run.Data, "--max-length", "128", "--json");

        Assert.That(JsonDocument.Parse(result.Output).RootElement.GetProperty("model").GetString(), Is.EqualTo(Path.GetFullPath(_run.Checkpoint)));
    }

    [Test]
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
