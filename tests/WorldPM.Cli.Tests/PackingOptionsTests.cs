using System.Text.Json;

namespace WorldPM.Cli.Tests;

/// <summary>
/// train, eval and score pack batches by default; --no-packing pads them and --max-tokens-per-batch cuts them to a
/// token budget instead of --batch's count. Batch-invariant scoring makes every way of batching give the same bits,
/// so eval's metrics and score's rewards must not change with either flag; bad values name the option.
/// </summary>
public class PackingOptionsTests
{
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    private static void AssertError(CliResult result, int exitCode, params string[] mentions)
    {
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString);
        foreach (string mention in mentions) Assert.That(result.Error, Does.Contain(mention), result.ToString);
    }

    [TestCase("0")]
    [TestCase("-5")]
    [TestCase("2147483647")]
    public void AnOutOfRangeBudgetIsAUsageErrorNamingTheOption(string value)
    {
        AssertError(Worldpm.Run("eval", _run.Checkpoint, _run.Data, "--max-tokens-per-batch", value), 2,
            $"--max-tokens-per-batch is {value}", "between 1 and");
        AssertError(Worldpm.Run("score", _run.Checkpoint, "--response", "5", "--max-tokens-per-batch", value), 2,
            $"--max-tokens-per-batch is {value}");
        AssertError(Worldpm.Run("train", _run.Data, "--out", _run.Files.PathOf("bad-budget"), "--steps", "1",
            "--max-tokens-per-batch", value), 2, $"--max-tokens-per-batch is {value}");
    }

    [Test]
    public void APairLongerThanTheBudgetIsAnErrorNamingItAndTheOption() =>
        AssertError(Worldpm.Run("eval", _run.Checkpoint, _run.Data, "--max-tokens-per-batch", "9"), 1,
            "pair 1", "--max-tokens-per-batch", "more than the 9");

    [Test]
    public void NoPackingIsAFlag() =>
        AssertError(Worldpm.Run("score", _run.Checkpoint, "--response", "5", "--no-packing", "yes"), 2);

    [Test]
    public void EvalGivesTheSameMetricsHoweverItBatches()
    {
        string Metrics(params string[] more)
        {
            JsonElement json = JsonDocument.Parse(Worldpm.Succeed(["eval", _run.Checkpoint, _run.Data, "--json", .. more])
                .OutputLines[^1]).RootElement;
            return json.GetProperty("overall").GetRawText();
        }
        string packed = Metrics();
        Assert.That(Metrics("--no-packing"), Is.EqualTo(packed), "padded");
        Assert.That(Metrics("--max-tokens-per-batch", "300"), Is.EqualTo(packed), "a token budget");
        Assert.That(Metrics("--max-tokens-per-batch", "300", "--no-packing", "--batch", "3"), Is.EqualTo(packed),
            "a budget of padded rows");
    }

    [Test]
    public void ScoreGivesTheSameRewardsHoweverItBatches()
    {
        string[] args = ["score", _run.Checkpoint, "--prompt", "Which is larger, 3 or 5?", "--response", "5",
            "--response", "It is 3, clearly, since three is the larger number here.", "--response", "5 is larger."];
        float[] packed = ScoreCommandTests.Rewards(Worldpm.Succeed(args));
        Assert.That(ScoreCommandTests.Rewards(Worldpm.Succeed([.. args, "--no-packing"])), Is.EqualTo(packed));
        Assert.That(ScoreCommandTests.Rewards(Worldpm.Succeed([.. args, "--max-tokens-per-batch", "200"])), Is.EqualTo(packed));
    }

    [Test]
    public void TrainTakesATokenBudgetAndThePaddedLayout()
    {
        CliResult budget = Worldpm.Succeed("train", _run.Data, "--out", _run.Files.PathOf("budget-run"), "--config",
            _run.Files.PathOf("tiny.json"), "--max-length", "128", "--steps", "2", "--max-tokens-per-batch", "400");
        Assert.That(budget.Output, Does.Contain("up to 400 tokens").And.Contain("(packed)"));
        CliResult padded = Worldpm.Succeed("train", _run.Data, "--out", _run.Files.PathOf("padded-run"), "--config",
            _run.Files.PathOf("tiny.json"), "--max-length", "128", "--steps", "2", "--batch", "4", "--no-packing");
        Assert.That(padded.Output, Does.Contain("4 pairs x 1 micro-batches (padded)"));
    }

    [TestCase("train")]
    [TestCase("eval")]
    [TestCase("score")]
    public void HelpListsBothFlags(string command)
    {
        string help = Worldpm.Succeed(command, "--help").Output;
        Assert.That(help, Does.Contain("--max-tokens-per-batch").And.Contain("--no-packing"));
    }
}
