using System.Text.Json;
using WorldPM.Checkpoints;

namespace WorldPM.Cli.Tests;

/// <summary>
/// The issue's resume promise, checked on a real process: "Training N steps, killing the process during a
/// checkpoint write, and resuming gives a loss curve bitwise equal to an uninterrupted run; the interrupted
/// checkpoint never replaces the good one." The kill is a SIGKILL the process sends itself half way through
/// writing a checkpoint (WORLDPM_TEST_KILL_DURING_CHECKPOINT, a hook for tests only).
/// </summary>
public class ProcessKillResumeTests
{
    private const int Steps = 10;
    private const int CheckpointEvery = 3;
    private const int KilledAt = 9;       // a checkpoint step: killed while writing step-9
    private const int LastGood = 6;       // the checkpoint before it

    private TestFiles _files = null!;

    [SetUp]
    public void CreateFiles() => _files = new TestFiles();

    [TearDown]
    public void DeleteFiles() => _files.Dispose();

    private string[] TrainArgs(string run, params string[] more) =>
    [
        "train", _files.PathOf("pairs.jsonl"), "--out", _files.PathOf(run), "--config", _files.PathOf("tiny.json"),
        "--max-length", "128", "--steps", Steps.ToString(), "--batch", "4", "--accumulation", "2", "--lr", "1e-2",
        "--seed", "11", "--checkpoint-every", CheckpointEvery.ToString(), "--keep", "0", "--metrics", _files.PathOf(run + ".jsonl"), .. more,
    ];

    /// <summary>The step objects of a metrics file, in file order.</summary>
    private List<JsonElement> StepLines(string run) =>
        File.ReadAllLines(_files.PathOf(run + ".jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "step")
            .ToList();

    /// <summary>Each step's deterministic numbers as raw IEEE bits, so that equality means bitwise equality.</summary>
    private static long[][] Curve(List<JsonElement> steps) =>
        steps.Select(s => new[] { "loss", "accuracy", "margin", "grad_norm", "lr" }
            .Select(key => BitConverter.DoubleToInt64Bits(s.GetProperty(key).GetDouble())).ToArray()).ToArray();

    [Test]
    public void AProcessKilledDuringACheckpointWriteResumesToTheUninterruptedLossCurveBitwise()
    {
        _files.WritePairs("pairs.jsonl", 40);
        _files.WriteTinyConfig();

        CliResult full = WorldpmProcess.Run(null, TrainArgs("full"));
        Assert.That(full.ExitCode, Is.EqualTo(0), full.ToString);

        var kill = new Dictionary<string, string> { ["WORLDPM_TEST_KILL_DURING_CHECKPOINT"] = KilledAt.ToString() };
        CliResult killed = WorldpmProcess.Run(kill, TrainArgs("broken"));
        Assert.That(killed.ExitCode, Is.EqualTo(WorldpmProcess.KilledBySigkill), killed.ToString);

        string broken = _files.PathOf("broken");
        string interrupted = Path.Combine(broken, $"step-{KilledAt}.tmp");
        Assert.That(Path.Combine(interrupted, "model.safetensors"), Does.Exist, "killed after the weights were written ...");
        Assert.That(Path.Combine(interrupted, TrainingStateFile.FileName), Does.Not.Exist, "... and before the training state was");
        Assert.That(Path.Combine(broken, $"step-{KilledAt}"), Does.Not.Exist);
        Assert.That(File.ReadAllText(Path.Combine(broken, CheckpointStore.LatestFileName)).Trim(), Is.EqualTo($"step-{LastGood}"));
        string good = Path.Combine(broken, $"step-{LastGood}");
        Assert.That(TrainingStateFile.Read(Path.Combine(good, TrainingStateFile.FileName)).Step, Is.EqualTo(LastGood));
        CliResult eval = Worldpm.Succeed("eval", broken, _files.PathOf("pairs.jsonl"), "--max-length", "128", "--json");
        Assert.That(JsonDocument.Parse(eval.Output).RootElement.GetProperty("model").GetString(), Is.EqualTo(good));
        Assert.That(StepLines("broken").Select(s => s.GetProperty("step").GetInt64()), Is.EqualTo(Enumerable.Range(1, KilledAt)),
            "the killed run had logged every step up to the one it died saving");

        CliResult resumed = WorldpmProcess.Run(null, TrainArgs("broken", "--resume"));
        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString);
        Assert.That(resumed.Output, Does.Contain($"resumed at step {LastGood}, trained {Steps - LastGood} more steps"));

        List<JsonElement> expected = StepLines("full"), actual = StepLines("broken");
        Assert.That(actual.Select(s => s.GetProperty("step").GetInt64()), Is.EqualTo(Enumerable.Range(1, Steps)),
            "each step once: the steps after the last checkpoint were re-run, not listed twice");
        Assert.That(Curve(actual), Is.EqualTo(Curve(expected)), "loss, accuracy, margin, grad norm and lr of every step, bitwise");
        Assert.That(expected.Select(s => s.GetProperty("loss").GetDouble()).Distinct().Count(), Is.EqualTo(Steps),
            "the weights move every step, so equal curves mean the resumed run trained the same weights on the same data");
        foreach (string file in new[] { "model.safetensors", TrainingStateFile.FileName, "config.json" })
            Assert.That(File.ReadAllBytes(Path.Combine(broken, $"step-{Steps}", file)),
                Is.EqualTo(File.ReadAllBytes(Path.Combine(_files.PathOf("full"), $"step-{Steps}", file))), $"final {file}, bytewise");
    }

    [Test]
    public void AKillSwitchThatIsNotAStepNumberIsAOneLineFailure()
    {
        _files.WritePairs("pairs.jsonl", 8);
        _files.WriteTinyConfig();

        CliResult result = WorldpmProcess.Run(new Dictionary<string, string> { ["WORLDPM_TEST_KILL_DURING_CHECKPOINT"] = "soon" },
            TrainArgs("run"));

        Assert.That(result.ExitCode, Is.EqualTo(Cli.Failure), result.ToString);
        Assert.That(result.Error.Trim(), Does.Match("^worldpm: WORLDPM_TEST_KILL_DURING_CHECKPOINT is 'soon'; it must be a step number[^\n]*$"));
    }
}
