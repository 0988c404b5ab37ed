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

    /// <summary>The reward column of the labelled rows (after the header line).</summary>
    internal static float[] Rewards(CliResult result) =>
        result.OutputLines.Skip(1).Select(line => float.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2],
            CultureInfo.InvariantCulture)).ToArray();

    [Test]
    public void PrintsOneFiniteRewardPerResponse()
    {
        CliResult result = Worldpm.Succeed("score", _run.Checkpoint, "--prompt", "Which is larger, 3 or 5?",
            "--response", "5", "--response", "3", "--response", "The larger one is 5.");

        float[] rewards = Rewards(result);
        Assert.That(rewards, Has.Length.EqualTo(3));
        Assert.That(rewards, Is.All.Matches<float>(float.IsFinite));
        Assert.That(result.OutputLines[0], Is.EqualTo("prompt  response  reward"));
        Assert.That(result.OutputLines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..2]),
            Is.EqualTo(new[] { new[] { "0", "0" }, ["0", "1"], ["0", "2"] }), "prompt and response indices label the rows");
    }

    [Test]
    public void TwoResponsesAlsoGetTheirPreferenceProbabilities()
    {
        CliResult result = Worldpm.Succeed("score", _run.Checkpoint, "--prompt", "Which is larger, 3 or 5?",
            "--response", "5", "--response", "It's 3.");

        float[] rewards = Rewards(result);
        double[] preferences = [.. result.OutputLines.Skip(1).Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], CultureInfo.InvariantCulture))];
        Assert.That(result.OutputLines[0], Does.EndWith("P(preferred)"));
        Assert.That(preferences[0], Is.EqualTo(1 / (1 + Math.Exp(-((double)rewards[0] - rewards[1])))).Within(1e-6));
        Assert.That(preferences[0] + preferences[1], Is.EqualTo(1).Within(2e-6));
    }

    [Test]
    public void JsonLinesKeepTheTextAsWritten()
    {
        CliResult result = Worldpm.Succeed("score", _run.Checkpoint, "--prompt", "Which is larger?",
            "--response", "It's 5 <b>&</b>", "--response", "3", "--json");

        Assert.That(result.OutputLines[0], Does.Contain("\"response\":\"It's 5 <b>&</b>\""), "no \\u0027 or \\u003C escapes");
        JsonElement[] lines = [.. result.OutputLines.Select(l => JsonDocument.Parse(l).RootElement)];
        Assert.That(lines.Select(l => (l.GetProperty("prompt_index").GetInt32(), l.GetProperty("response_index").GetInt32())),
            Is.EqualTo(new[] { (0, 0), (0, 1) }));
        double r0 = lines[0].GetProperty("reward").GetDouble(), r1 = lines[1].GetProperty("reward").GetDouble();
        Assert.That(lines[1].GetProperty("preference").GetDouble(), Is.EqualTo(1 / (1 + Math.Exp(r0 - r1))).Within(1e-6));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void CudaGraphsOnTheEmulatorGiveTheRewardsOfTheEagerForward(bool noPacking)
    {
        // One response per batch, all of one length: the first batch runs eagerly, the second is recorded, the rest
        // replay; packed (the default) or padded.
        string[] args = ["score", _run.Checkpoint, "--backend", "emu", "--batch", "1", "--prompt",
            "Which is larger, 3 or 5?", "--response", "5", "--response", "3", "--response", "7", "--response", "9",
            .. noPacking ? new[] { "--no-packing" } : []];

        float[] on = Rewards(Worldpm.Succeed([.. args, "--cuda-graphs", "on"]));
        float[] off = Rewards(Worldpm.Succeed([.. args, "--cuda-graphs", "off"]));

        Assert.That(on.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(off.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(on.Distinct().Count(), Is.GreaterThan(1), "the responses score differently");
    }

    // One response a batch, 1 to 8 tokens long: eight token counts in a row, no two the same, so without length buckets
    // no batch could replay another's recording; a recording runs each rounded up to its bucket (a run of at least 4
    // counts from 32 tokens on), so some share one and replay it (reported on stderr), with the eager forward's rewards,
    // which runs the same batches without filler.
    [Test, BackendNeutral]  // --backend emu: the same run in either pass
    public void CudaGraphsOnReplaysPackedBatchesOfVaryingLengthsWithTheEagerRewards()
    {
        string[] args = ["score", _run.Checkpoint, "--backend", "emu", "--batch", "1", "--prompt", "Pick a number.",
            .. Enumerable.Range(1, 8).SelectMany(n => new[] { "--response", new string((char)('0' + n), n) })];

        CliResult recorded = Worldpm.Succeed([.. args, "--cuda-graphs", "on"]);
        CliResult eager = Worldpm.Succeed([.. args, "--cuda-graphs", "off"]);

        Assert.That(Rewards(recorded).Select(BitConverter.SingleToInt32Bits),
            Is.EqualTo(Rewards(eager).Select(BitConverter.SingleToInt32Bits)));
        Assert.That(Rewards(eager).Distinct().Count(), Is.EqualTo(8), "the responses score differently");
        Assert.That(recorded.Error, Does.Match(@"cuda graphs: [1-7] of 8 batches replayed"));
        Assert.That(eager.Error, Does.Not.Contain("cuda graphs"));
    }

    [Test]
    public void CudaGraphsOnTheCpuBackendAreAUsageErrorNamingTheOption()
    {
        CliResult result = Worldpm.Run("score", _run.Checkpoint, "--backend", "cpu", "--cuda-graphs", "on", "--response", "5");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString);
        Assert.That(result.Error, Does.Contain("--cuda-graphs on").And.Contain("cpu"));
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
            """{"prompt": "What's that?", "response": "It's 5", "id": 3}""",
        ]);

        CliResult result = Worldpm.Succeed("score", _run.Checkpoint, "--file", input, "--output", output);

        Assert.That(result.Output, Is.Empty);
        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(lines.Select(l => l.GetProperty("id").GetInt32()), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(File.ReadAllLines(output)[2], Does.Contain("\"What's that?\"").And.Contain("\"It's 5\""), "text unescaped");
        Assert.That(lines.Select(l => l.GetProperty("reward").GetDouble()), Is.All.Matches<double>(double.IsFinite));
        Assert.That(lines[1].GetProperty("reward").GetDouble(), Is.EqualTo(lines[0].GetProperty("reward").GetDouble()),
            "a string prompt is one user message");
    }
}
