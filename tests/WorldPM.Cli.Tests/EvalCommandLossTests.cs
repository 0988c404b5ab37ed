using System.Text.Json;

namespace WorldPM.Cli.Tests;

/// <summary><c>worldpm eval</c>'s loss column: the loss the checkpoint was trained with (and its margin field) unless
/// --loss or --margin-from say otherwise; Bradley-Terry for a bt run or a checkpoint without training state. Every value
/// is checked against a float64 computation over reward differences from <c>worldpm score</c>, not eval's own.</summary>
public class EvalCommandLossTests
{
    private const int Pairs = 24;

    // Read only after the fixture: the data and three tiny runs, one per recorded objective.
    private TestFiles _shared = null!;
    private string _graded = null!, _plain = null!;
    private readonly Dictionary<string, string> _checkpoints = [];

    [OneTimeSetUp]
    public void TrainOneRunPerObjective()
    {
        _shared = new TestFiles();
        _graded = _shared.WriteGradedPairs("graded.jsonl", Pairs);
        _plain = _shared.WritePairs("plain.jsonl", Pairs);
        string config = _shared.WriteTinyConfig();
        foreach (var (name, options) in new Dictionary<string, string[]>
        {
            ["bt"] = [],
            ["hinge"] = ["--loss", "hinge"],
            ["hinge-gap"] = ["--loss", "hinge", "--margin-from", "gap"],
        })
        {
            string run = _shared.PathOf("run-" + name);
            Worldpm.Succeed(["train", _graded, "--out", run, "--config", config, "--max-length", "128", "--steps", "2", "--batch", "4",
                "--quiet", .. options]);
            _checkpoints[name] = Path.Combine(run, "step-2");
        }
    }

    [OneTimeTearDown]
    public void DeleteThem() => _shared.Dispose();

    // 128 positions (the tiny model's all) hold every pair whole: eval truncates a pair and score a response each their
    // own way, so only untruncated sequences give both the same rewards.
    private static CliResult Eval(string checkpoint, string data, params string[] more) =>
        Worldpm.Run(["eval", checkpoint, data, "--max-length", "128", .. more]);

    private static JsonElement EvalJson(string checkpoint, string data, params string[] more)
    {
        CliResult result = Eval(checkpoint, data, [.. more, "--json"]);
        Assert.That(result.ExitCode, Is.Zero, result.ToString);
        return JsonDocument.Parse(result.Output).RootElement;
    }

    /// <summary>r(chosen) - r(rejected) of every graded pair in float64, from the rewards <c>worldpm score --file</c>
    /// gives each response on its own: the independent side of every comparison here.</summary>
    private double[] RewardDifferences(string checkpoint)
    {
        string input = _shared.PathOf($"to-score-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(input, File.ReadLines(_graded).SelectMany(line =>
        {
            JsonElement pair = JsonDocument.Parse(line).RootElement;
            string prompt = pair.GetProperty("prompt").GetString()!;
            return new[] { "chosen", "rejected" }.Select(side =>
                JsonSerializer.Serialize(new { prompt, response = pair.GetProperty(side).GetString() }));
        }));
        CliResult scored = Worldpm.Succeed("score", checkpoint, "--file", input, "--max-length", "128");
        // The rewards are float32s: read back as such, their float64 difference is the one a pair's gap is.
        float[] rewards = [.. scored.OutputLines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("reward").GetSingle())];
        Assert.That(rewards, Has.Length.EqualTo(2 * Pairs));
        return [.. Enumerable.Range(0, Pairs).Select(i => (double)rewards[2 * i] - rewards[2 * i + 1])];
    }

    private static double Hinge(IEnumerable<double> deltas, Func<int, double> margin) =>
        deltas.Select((d, i) => Math.Max(0, margin(i) - d)).Average();

    private static double BradleyTerry(IEnumerable<double> deltas) =>
        deltas.Select(d => d >= 0 ? Math.Log(1 + Math.Exp(-d)) : -d + Math.Log(1 + Math.Exp(d))).Average();

    private static double OverallLoss(JsonElement json) => json.GetProperty("overall").GetProperty("loss").GetDouble();

    // The hinge run without margins uses 1; the one with --margin-from gap reads each pair's gap again from the data.
    [TestCase("hinge", false, "loss column: hinge (recorded with the checkpoint)")]
    [TestCase("hinge-gap", true, "loss column: hinge (recorded with the checkpoint), margins from gap (recorded with the checkpoint)")]
    public void AHingeRunIsReportedWithItsRecordedLossAndSaysSo(string run, bool gapMargins, string line)
    {
        JsonElement json = EvalJson(_checkpoints[run], _graded);
        CliResult text = Eval(_checkpoints[run], _graded);

        Assert.That(json.GetProperty("loss").GetString(), Is.EqualTo("hinge"));
        Assert.That(json.TryGetProperty("margin_from", out JsonElement field) ? field.GetString() : null, Is.EqualTo(gapMargins ? "gap" : null));
        // The kernel computes each term in float32 from the gap cast to float: agreement to float32 precision.
        double expected = Hinge(RewardDifferences(_checkpoints[run]), i => gapMargins ? (float)TestFiles.GradedGap(i) : 1);
        Assert.That(OverallLoss(json), Is.EqualTo(expected).Within(1e-5));
        Assert.That(text.ExitCode, Is.Zero, text.ToString);
        Assert.That(text.OutputLines, Has.Member(line));
        Assert.That(text.Output, Does.Contain("mean hinge loss"));
    }

    [Test]
    public void ABtRunKeepsTheFloat64BradleyTerryColumnAndItsText()
    {
        JsonElement json = EvalJson(_checkpoints["bt"], _graded);
        CliResult text = Eval(_checkpoints["bt"], _graded);

        Assert.That(json.GetProperty("loss").GetString(), Is.EqualTo("bt"));
        Assert.That(OverallLoss(json), Is.EqualTo(BradleyTerry(RewardDifferences(_checkpoints["bt"]))).Within(1e-9));
        Assert.That(text.Output, Does.Not.Contain("loss column").And.Contain("mean BT loss"));
    }

    [Test]
    public void ACheckpointWithoutTrainingStateHasTheBradleyTerryColumn()
    {
        // The hinge run's weights and config alone, as a model saved or imported on its own would be.
        string alone = _shared.PathOf("model-alone");
        Directory.CreateDirectory(alone);
        foreach (string file in Directory.GetFiles(_checkpoints["hinge"]).Where(f => !f.EndsWith("training_state.safetensors", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(alone, Path.GetFileName(file)));

        JsonElement json = EvalJson(alone, _graded);

        Assert.That(json.GetProperty("loss").GetString(), Is.EqualTo("bt"));
        Assert.That(OverallLoss(json), Is.EqualTo(BradleyTerry(RewardDifferences(_checkpoints["hinge"]))).Within(1e-9));
    }

    [Test]
    public void LossBtOverridesARecordedHinge()
    {
        JsonElement json = EvalJson(_checkpoints["hinge-gap"], _graded, "--loss", "bt");
        CliResult text = Eval(_checkpoints["hinge-gap"], _graded, "--loss", "bt");

        Assert.That(json.GetProperty("loss").GetString(), Is.EqualTo("bt"));
        Assert.That(json.TryGetProperty("margin_from", out _), Is.False, "--loss replaces the recorded margin field too");
        Assert.That(OverallLoss(json), Is.EqualTo(BradleyTerry(RewardDifferences(_checkpoints["hinge-gap"]))).Within(1e-9));
        Assert.That(text.OutputLines, Has.Member("loss column: bt (--loss)"));
    }

    [TestCase("hinge", false, new[] { "--loss", "focal" }, "--loss is focal; it must be one of bt, bt-margin, bt-smooth, hinge")]
    [TestCase("hinge", false, new[] { "--loss", "bt-smooth", "--label-smoothing", "0.5" }, "--label-smoothing is 0.5; it must be in [0, 0.5)")]
    [TestCase("hinge", false, new[] { "--label-smoothing", "0.1" }, "--label-smoothing applies to --loss bt-smooth only, not --loss hinge")]
    [TestCase("bt", false, new[] { "--margin-from", "gap" }, "--margin-from applies to the margin losses (bt-margin, hinge), not --loss bt")]
    [TestCase("hinge", false, new[] { "--margin-from", "votes" }, "--margin-from votes: 24 of 24 evaluation pairs carry no 'votes' (the first from ")]
    [TestCase("hinge-gap", true, new string[0], "--margin-from gap (recorded with the checkpoint): 24 of 24 evaluation pairs carry no 'gap' (the first from ")]
    public void BadLossOptionsAreOneLineUsageErrors(string run, bool plainData, string[] options, string message)
    {
        string data = plainData ? _plain : _graded;

        CliResult result = Eval(_checkpoints[run], data, options);

        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage), result.ToString);
        Assert.That(result.Error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), result.ToString);
        Assert.That(result.Error, Does.StartWith("worldpm: ").And.Contain(message));
        if (message.Contains("carry no")) Assert.That(result.Error, Does.Contain(Path.GetFileName(data)), "the error names the file");
    }
}
