using System.Text.Json;
using WorldPM.Checkpoints;
using WorldPM.Testing;

namespace WorldPM.Cli.Tests;

/// <summary>
/// <c>worldpm sweep</c> on a grid of tiny runs: 2 sizes × 2 step counts of 4-pair steps over 64-token sequences, each
/// run a few seconds.
/// </summary>
[BackendNeutral]
public class SweepCommandTests
{
    private static readonly string[] RunNames = ["d16-l1-s2", "d32-l1-s2", "d16-l1-s4", "d32-l1-s4"];

    private TestFiles _files = null!;
    private string _data = null!;

    [SetUp]
    public void CreateFiles()
    {
        _files = new TestFiles();
        _data = _files.WritePairs("pairs.jsonl", 80);
    }

    [TearDown]
    public void DeleteFiles() => _files.Dispose();

    private string[] SweepArgs(string sweep, params string[] more) =>
        ["sweep", _data, "--out", sweep, "--models", "16x1,32x1", "--steps", "2,4", "--batch", "4", "--max-length", "64",
         "--evals", "2", "--bootstrap", "50", .. more];

    private static List<JsonElement> Metrics(string run, string type) =>
        File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("type").GetString() == type)
            .ToList();

    [Test]
    public void ATinySweepWritesOneConsistentEntryPerRunAndAFit()
    {
        string sweep = _files.PathOf("sweep");
        CliResult result = Worldpm.Succeed(SweepArgs(sweep));
        Assert.That(result.Output, Does.Contain("4 runs: 4 trained, 0 kept as they were"));

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(sweep, "sweep.json")));
        JsonElement root = json.RootElement;
        JsonElement[] runs = [.. root.GetProperty("runs").EnumerateArray()];
        Assert.That(runs.Select(r => r.GetProperty("name").GetString()), Is.EqualTo(RunNames));
        foreach (JsonElement run in runs)
        {
            string name = run.GetProperty("name").GetString()!;
            string directory = Path.Combine(sweep, run.GetProperty("directory").GetString()!);
            long steps = run.GetProperty("steps").GetInt64();
            Assert.That(new CheckpointStore(directory).LatestStep(), Is.EqualTo(steps), name);

            // Parameters: the checkpoint's tensors counted, less the 259 x d embedding table.
            long stored;
            using (var weights = SafeTensorsFile.Open(Path.Combine(directory, $"step-{steps}", "model.safetensors")))
                stored = weights.Tensors.Sum(t => t.Shape.Aggregate(1L, (n, d) => n * d));
            long hidden = run.GetProperty("hidden_size").GetInt64();
            JsonElement parameters = run.GetProperty("parameters");
            Assert.That(parameters.GetProperty("total").GetDouble(), Is.EqualTo(stored), name);
            Assert.That(parameters.GetProperty("non_embedding").GetDouble(), Is.EqualTo(stored - 259 * hidden), name);

            // Tokens, compute and the held-out curve: the run's own metrics log.
            long tokens = Metrics(directory, "step").Sum(s => s.GetProperty("tokens").GetInt64());
            Assert.That(run.GetProperty("tokens").GetInt64(), Is.EqualTo(tokens), name);
            Assert.That(run.GetProperty("flops").GetDouble(), Is.EqualTo(6.0 * (stored - 259 * hidden) * tokens).Within(1e-9).Percent, name);
            List<JsonElement> evals = Metrics(directory, "eval");
            JsonElement[] curve = [.. run.GetProperty("curve").EnumerateArray()];
            Assert.That(curve.Select(p => p.GetProperty("step").GetInt64()), Is.EqualTo(new[] { steps / 2, steps }), name);
            Assert.That(curve.Select(p => p.GetProperty("loss").GetDouble()),
                Is.EqualTo(evals.Select(e => e.GetProperty("overall").GetProperty("loss").GetDouble())), name);
            Assert.That(run.GetProperty("heldout").GetProperty("loss").GetDouble(),
                Is.EqualTo(evals[^1].GetProperty("overall").GetProperty("loss").GetDouble()), name);
            Assert.That(run.GetProperty("heldout").GetProperty("accuracy").GetDouble(),
                Is.EqualTo(evals[^1].GetProperty("overall").GetProperty("accuracy").GetDouble()), name);
            // The same held-out pairs for every run: 10 % of 80.
            Assert.That(evals[^1].GetProperty("overall").GetProperty("pairs").GetInt32(), Is.EqualTo(8), name);
        }

        JsonElement fit = root.GetProperty("fit");
        Assert.That(fit.GetProperty("points").GetInt32(), Is.EqualTo(4));
        foreach (string key in new[] { "a", "b", "c", "r2" })
            Assert.That(double.IsFinite(fit.GetProperty(key).GetDouble()), key);
        Assert.That(fit.GetProperty("intervals").GetProperty("b").GetArrayLength(), Is.EqualTo(2));
        // The parameter fit is over the 2 runs of 4 steps: too few, recorded as an error, not a failure of the sweep.
        Assert.That(root.GetProperty("fit_parameters").GetProperty("error").GetString(), Does.Contain("at least 4 points"));

        string table = File.ReadAllText(Path.Combine(sweep, "sweep.md"));
        Assert.That(RunNames.Select(n => table.Split('\n').Count(l => l.StartsWith($"| {n} |"))), Has.All.EqualTo(1));
        Assert.That(File.ReadAllBytes(Path.Combine(sweep, "sweep.png")).Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));

        // Each run is an ordinary run directory: eval reads it.
        CliResult eval = Worldpm.Succeed("eval", Path.Combine(sweep, "runs", "d32-l1-s4"), _data, "--max-length", "64", "--json");
        Assert.That(JsonDocument.Parse(eval.Output).RootElement.GetProperty("overall").GetProperty("pairs").GetInt32(), Is.EqualTo(80));
    }

    [Test]
    public void AnInterruptedSweepResumesWithoutRedoingItsFinishedRuns()
    {
        string sweep = _files.PathOf("sweep");
        // Checkpoints every steps/2: the 2-step runs finish, then the first 4-step run dies writing step-4 (step-2 kept).
        var kill = new Dictionary<string, string> { ["WORLDPM_TEST_KILL_DURING_CHECKPOINT"] = "4" };
        CliResult killed = WorldpmProcess.Run(kill, SweepArgs(sweep));
        Assert.That(killed.ExitCode, Is.EqualTo(WorldpmProcess.KilledBySigkill), killed.ToString);
        string Run(string name) => Path.Combine(sweep, "runs", name);
        Assert.That(new CheckpointStore(Run("d16-l1-s4")).LatestStep(), Is.EqualTo(2));
        Assert.That(Run("d32-l1-s4"), Does.Not.Exist);
        Assert.That(Path.Combine(sweep, "sweep.json"), Does.Not.Exist);

        string[] finished = ["d16-l1-s2", "d32-l1-s2"];
        var before = finished.SelectMany(n => Directory.GetFiles(Run(n), "*", SearchOption.AllDirectories))
            .ToDictionary(f => f, File.GetLastWriteTimeUtc);

        CliResult resumed = Worldpm.Succeed(SweepArgs(sweep));

        Assert.That(resumed.Output, Does.Contain("[1/4] d16-l1-s2: finished before, kept"));
        Assert.That(resumed.Output, Does.Contain("[2/4] d32-l1-s2: finished before, kept"));
        Assert.That(resumed.Output, Does.Contain("[3/4] d16-l1-s4: 4 steps of 4 pairs, resuming at step 2"));
        Assert.That(resumed.Output, Does.Contain("4 runs: 2 trained, 2 kept as they were"));
        var after = finished.SelectMany(n => Directory.GetFiles(Run(n), "*", SearchOption.AllDirectories))
            .ToDictionary(f => f, File.GetLastWriteTimeUtc);
        Assert.That(after, Is.EqualTo(before), "a finished run's files are neither rewritten nor added to");
        Assert.That(File.ReadAllText(Path.Combine(Run("d16-l1-s4"), "train.log")), Does.Contain("resumed at step 2"));
        Assert.That(Metrics(Run("d16-l1-s4"), "step").Select(s => s.GetProperty("step").GetInt64()), Is.EqualTo(new long[] { 1, 2, 3, 4 }));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(sweep, "sweep.json")));
        Assert.That(json.RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("name").GetString()), Is.EqualTo(RunNames));

        // Run a third time: everything finished, nothing trained.
        CliResult again = Worldpm.Succeed(SweepArgs(sweep));
        Assert.That(again.Output, Does.Contain("4 runs: 0 trained, 4 kept as they were"));
    }

    [Test]
    public void TooFewRunsToFitWriteTheRunsAndFailNamingTheFit()
    {
        string sweep = _files.PathOf("sweep");
        CliResult result = Worldpm.Run("sweep", _data, "--out", sweep, "--models", "16x1", "--steps", "2", "--batch", "4", "--max-length", "64", "--evals", "1");
        Assert.That(result.ExitCode, Is.EqualTo(Cli.Failure), result.ToString);
        Assert.That(result.Error.Trim(), Does.Match("^worldpm: the power-law fit of held-out loss against compute failed: [^\n]*at least 4 points, and there are 1$"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(sweep, "sweep.json")));
        Assert.That(json.RootElement.GetProperty("runs").GetArrayLength(), Is.EqualTo(1));
        Assert.That(json.RootElement.GetProperty("fit").GetProperty("error").GetString(), Does.Contain("at least 4 points"));
    }

    [Test]
    public void ASweepDirectoryIsContinuedOnlyWithItsOwnRecipe()
    {
        string sweep = _files.PathOf("sweep");
        string[] args = ["sweep", _data, "--out", sweep, "--models", "16x1", "--steps", "1", "--batch", "2", "--max-length", "32", "--evals", "1"];
        Assert.That(Worldpm.Run(args).ExitCode, Is.EqualTo(Cli.Failure), "one run is too few to fit");
        CliResult other = Worldpm.Run([.. args, "--lr", "0.01"]);
        Assert.That(other.ExitCode, Is.EqualTo(Cli.Usage), other.ToString);
        Assert.That(other.Error.Trim(), Does.Match("^worldpm: '[^']*' was swept with another recipe \\([^)]*recipe.json\\); continue it with the same data and options, or choose another --out$"));
        Assert.That(Metrics(Path.Combine(sweep, "runs", "d16-l1-s1"), "step"), Has.Count.EqualTo(1), "the refused sweep trained nothing");
    }

    [Test]
    public void QuickSweepsTheQuickGridsSizesAndStepsOverrideItsDataSizes()
    {
        string sweep = _files.PathOf("sweep");
        CliResult result = Worldpm.Run("sweep", _data, "--out", sweep, "--quick", "--steps", "1", "--batch", "2", "--max-length", "32", "--evals", "1", "--bootstrap", "0");
        string[] expected = ["d16-l1-s1", "d32-l2-s1", "d48-l2-s1", "d64-l3-s1"];
        Assert.That(Directory.GetDirectories(Path.Combine(sweep, "runs")).Select(Path.GetFileName).Order(), Is.EqualTo(expected.Order()), result.ToString);
        Assert.That(result.Output, Does.Contain("[4/4] d64-l3-s1: 1 steps of 2 pairs"));
    }

    [Test]
    public void RealDataIsSweptWithTheDataOptionsOfTrain()
    {
        string posts = SharedData.PathOf("stackexchange");
        int HeldOutPairs(string name, params string[] more)
        {
            string sweep = _files.PathOf(name);
            // One run: too few to fit, so exit 1 after the files are written.
            CliResult result = Worldpm.Run(["sweep", posts, "--out", sweep, "--models", "16x1", "--steps", "1", "--batch", "2",
                "--max-length", "32", "--evals", "1", .. more]);
            Assert.That(result.ExitCode, Is.EqualTo(Cli.Failure), result.ToString);
            return Metrics(Path.Combine(sweep, "runs", "d16-l1-s1"), "eval")[^1].GetProperty("overall").GetProperty("pairs").GetInt32();
        }
        int all = HeldOutPairs("all"), wideMargins = HeldOutPairs("wide", "--min-score-margin", "3");
        Assert.That(all, Is.GreaterThan(100));
        Assert.That(wideMargins, Is.GreaterThan(0).And.LessThan(all), "--min-score-margin reaches the StackExchange reader of every run");
    }

    [TestCase(new[] { "sweep", "--out", "DIR" }, Cli.Usage, "sweep needs DATA")]
    [TestCase(new[] { "sweep", "DATA" }, Cli.Usage, "'--out' is required")]
    [TestCase(new[] { "sweep", "missing.jsonl", "--out", "DIR" }, Cli.Usage, "data file 'missing.jsonl' does not exist")]
    [TestCase(new[] { "sweep", "GARBAGE", "--out", "DIR", "--models", "16x1", "--steps", "1" }, Cli.Failure, "garbage.txt")]
    [TestCase(new[] { "sweep", "DATA", "--out", "DIR", "--models", "20x1" }, Cli.Usage, "--models '20x1': the width must be a positive multiple of 16")]
    [TestCase(new[] { "sweep", "DATA", "--out", "DIR", "--models", "big" }, Cli.Usage, "--models 'big' is not HIDDENxLAYERS")]
    [TestCase(new[] { "sweep", "DATA", "--out", "DIR", "--steps", "10,0" }, Cli.Usage, "--steps '0' is not a step count")]
    [TestCase(new[] { "sweep", "DATA", "--out", "DATA" }, Cli.Usage, "is a file; it must name a sweep directory")]
    public void BadInputIsOneLineNamingIt(string[] template, int exitCode, string expected)
    {
        string garbage = _files.PathOf("garbage.txt");
        File.WriteAllText(garbage, "this is not preference data\n");
        string[] args = [.. template.Select(a => a switch
        {
            "DATA" => _data,
            "GARBAGE" => garbage,
            "DIR" => _files.PathOf("sweep"),
            "missing.jsonl" => "missing.jsonl",
            _ => a,
        })];
        CliResult result = Worldpm.Run(args);
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString);
        Assert.That(result.Error.Trim(), Does.Not.Contain("\n"));
        Assert.That(result.Error, Does.StartWith("worldpm: ").And.Contain(expected));
    }
}
