using System.Globalization;
using System.Text.Json;

namespace WorldPM.Cli.Tests;

/// <summary>Live progress bars on an interactive terminal; unchanged plain lines everywhere else.</summary>
[BackendNeutral]
public class ProgressDisplayTests
{
    private const char Escape = '\u001b';

    private TestFiles _files = null!;
    private string _data = null!;

    [SetUp]
    public void CreateFiles()
    {
        _files = new TestFiles();
        _data = _files.WritePairs("pairs.jsonl", 40);
    }

    [TearDown]
    public void DeleteFiles() => _files.Dispose();

    private string[] TrainArgs(string run, int steps) =>
    [
        "train", _data, "--out", _files.PathOf(run), "--config", _files.WriteTinyConfig(), "--max-length", "128",
        "--steps", steps.ToString(CultureInfo.InvariantCulture), "--batch", "4", "--log-every", "1", "--metrics", _files.PathOf(run + ".jsonl"),
    ];

    private double[] Losses(string run) =>
        File.ReadLines(_files.PathOf(run + ".jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "step")
            .Select(e => e.GetProperty("loss").GetDouble())
            .ToArray();

    [Test]
    public void RedirectedTrainingPrintsOnePlainLinePerStepWithoutEscapeCodes()
    {
        CliResult result = Worldpm.Succeed(TrainArgs("run", 3));

        Assert.That(result.Output, Does.Not.Contain(Escape));
        double[] losses = Losses("run");
        for (int step = 1; step <= 3; ++step)
        {
            string loss = losses[step - 1].ToString("F4", CultureInfo.InvariantCulture);
            Assert.That(result.OutputLines.Count(l => l.StartsWith($"step      {step}  loss {loss}  acc ", StringComparison.Ordinal)), Is.EqualTo(1),
                $"one plain line for step {step} with its loss {loss}\n{result}");
        }
    }

    [Test]
    public void AnInteractiveTerminalShowsABarWithTheStepCountAndLossInsteadOfTheStepLines()
    {
        var terminal = new ScreenTerminal();
        CliResult result = terminal.Run(TrainArgs("run", 3));

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
        string lastLoss = Losses("run")[^1].ToString("F4", CultureInfo.InvariantCulture);
        Assert.That(terminal.Text, Does.Contain($"step 3/3  loss {lastLoss}  acc "));
        Assert.That(terminal.Text, Does.Contain("100%"));
        Assert.That(terminal.Text, Does.Contain(Escape), "the bar is redrawn in place with ANSI cursor movements");
        Assert.That(result.OutputLines, Has.None.Match(@"^step\s+\d+\s+loss"), "the bar stands in for the plain step lines");
        Assert.That(result.OutputLines[^1], Does.Contain("step-3"), "the closing checkpoint line is still printed plainly");
    }

    [Test]
    public void DemoOnAnInteractiveTerminalShowsTheBarAndStillPrintsItsVerdict()
    {
        var terminal = new ScreenTerminal();
        CliResult result = terminal.Run("demo", "--steps", "2");

        Assert.That(result.ExitCode, Is.EqualTo(4), "2 steps stay below the target: " + result);
        Assert.That(terminal.Text, Does.Contain("step 2/2  loss ").And.Contain("held-out @ 2: accuracy"));
        Assert.That(result.OutputLines, Has.None.Match(@"^step\s+\d+\s+loss"));
        Assert.That(result.OutputLines[^1], Does.Contain("after 2 steps").And.Contain("below the 95 % target"));
    }

    [Test]
    public void EvaluationsDuringALiveBarStillPrintTheirTables()
    {
        var terminal = new ScreenTerminal();
        CliResult result = terminal.Run([.. TrainArgs("run", 2), "--eval-fraction", "0.25", "--eval-every", "1"]);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
        Assert.That(terminal.Text, Does.Contain("evaluation at step 1:").And.Contain("evaluation at step 2:"));
        Assert.That(terminal.Text, Does.Contain("overall: 10 pairs"));
    }

    [Test]
    public void EvalOnAnInteractiveTerminalShowsTheScoringAndThenThePlainReport()
    {
        Worldpm.Succeed(TrainArgs("run", 1));
        var terminal = new ScreenTerminal();
        CliResult result = terminal.Run("eval", _files.PathOf("run"), _data, "--max-length", "128", "--batch", "16");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
        Assert.That(terminal.Text, Does.Contain("scored 40/40 pairs"));
        Assert.That(result.Output, Does.Contain("overall: 40 pairs").And.Not.Contain(Escape));
    }

    [Test]
    public void JsonEvalDrawsNothingOnTheTerminal()
    {
        Worldpm.Succeed(TrainArgs("run", 1));
        var terminal = new ScreenTerminal();
        CliResult result = terminal.Run("eval", _files.PathOf("run"), _data, "--max-length", "128", "--json");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
        Assert.That(terminal.Text, Is.Empty);
        Assert.That(JsonDocument.Parse(result.Output).RootElement.GetProperty("overall").GetProperty("pairs").GetInt32(), Is.EqualTo(40));
    }
}
