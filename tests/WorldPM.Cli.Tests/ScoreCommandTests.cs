using System.Globalization;
using System.Text.Json;

namespace WorldPM.Cli.Tests;

public class ScoreCommandTests
{
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    private static float[] Rewards(CliResult result) =>
        result.OutputLines.Select(line => float.Parse(line, CultureInfo.InvariantCulture)).ToArray();

    [Test]
    public void PrintsOneFiniteRewardPerResponse()
    {
        CliResult result = Worldpm.Succeed("score", _run.Checkpoint, "--prompt", "Which is larger, 3 or 5?",
            "--response", "5", "--response", "3", "--response", "The larger one is 5.");

        float[] rewards = Rewards(result);
        Assert.That(rewards, Has.Length.EqualTo(3));
        Assert.That(rewards, Is.All.Matches<float>(float.IsFinite));
    }

    [Test]
    public void TheSameInputGetsTheSameRewardEveryTime()
    {
        string[] args = ["score", _run.RunDirectory, "--prompt", "Which is larger, 12 or 21?", "--response", "21", "--response", "21"];

        float[] first = Rewards(Worldpm.Succeed(args)), second = Rewards(Worldpm.Succeed(args));

        Assert.That(first[1], Is.EqualTo(first[0]));
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void AFileGetsItsLinesBackWithARewardAdded()
    {
        string input = _run.Files.PathOf("to-score.jsonl"), output = _run.Files.PathOf("scored.jsonl");
        File.WriteAllLines(input,
        [
            """{"prompt": "Which is larger, 3 or 5?", "response": "5", "id": 1}""",
            """{"prompt": [{"role": "user", "content": "Which is larger, 3 or 5?"}], "response": "5", "id": 2}""",
        ]);

        CliResult result = Worldpm.Succeed("score", _run.Checkpoint, "--file", input, "--output", output);

        Assert.That(result.Output, Is.Empty);
        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(lines.Select(l => l.GetProperty("id").GetInt32()), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(lines.Select(l => l.GetProperty("reward").GetDouble()), Is.All.Matches<double>(double.IsFinite));
        Assert.That(lines[1].GetProperty("reward").GetDouble(), Is.EqualTo(lines[0].GetProperty("reward").GetDouble()),
            "a string prompt is one user message");
    }
}
