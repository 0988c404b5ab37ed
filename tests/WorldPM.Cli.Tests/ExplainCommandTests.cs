using System.Text.Json;

namespace WorldPM.Cli.Tests;

public class ExplainCommandTests
{
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    [TestCase("grad-input")]
    [TestCase("integrated-gradients")]
    [TestCase("shapley")]
    public void JsonHoldsEveryUnitWithItsTextSpanAndTheRewardOfScore(string method)
    {
        const string response = "it is <b>7</b> & done";
        // Each method gets only its own option: --steps and --samples are refused with the other methods.
        string[] budget = method switch { "shapley" => ["--samples", "4"], "integrated-gradients" => ["--steps", "8"], _ => [] };
        CliResult result = Worldpm.Succeed(["explain", _run.Checkpoint, "--prompt", "what is 3 + 4?", "--response", response,
            "--method", method, .. budget, "--json"]);
        JsonElement json = JsonDocument.Parse(result.Output).RootElement;
        CliResult score = Worldpm.Succeed("score", _run.Checkpoint, "--prompt", "what is 3 + 4?", "--response", response, "--json");
        Assert.That(json.GetProperty("reward").GetDouble(), Is.EqualTo(JsonDocument.Parse(score.OutputLines[0]).RootElement.GetProperty("reward").GetDouble()).Within(1e-5));
        Assert.That(json.GetProperty("method").GetString(), Is.EqualTo(method));
        var units = json.GetProperty("attributions").EnumerateArray().Where(u => u.GetProperty("part").GetString() == "response").ToList();
        Assert.That(units, Is.Not.Empty);
        foreach (JsonElement u in units)
        {
            int start = u.GetProperty("start").GetInt32(), end = u.GetProperty("end").GetInt32();
            Assert.That(u.GetProperty("text").GetString(), Is.EqualTo(response[start..end]));
            Assert.That(double.IsFinite(u.GetProperty("value").GetDouble()));
            Assert.That(u.GetProperty("standard_error").ValueKind, Is.EqualTo(method == "shapley" ? JsonValueKind.Number : JsonValueKind.Null));
        }
        if (method != "grad-input")
        {
            JsonElement check = json.GetProperty("check");
            double sum = json.GetProperty("attributions").EnumerateArray().Sum(u => u.GetProperty("value").GetDouble());
            Assert.That(check.GetProperty("sum").GetDouble(), Is.EqualTo(sum).Within(1e-9));
        }
    }

    [Test]
    public void HtmlIsOneEscapedPageWithValuesOnHover()
    {
        string html = _run.Files.PathOf("explain.html");
        CliResult result = Worldpm.Succeed("explain", _run.Checkpoint, "--prompt", "q", "--response", "a <script>x</script> & b",
            "--method", "shapley", "--samples", "4", "--html", html);
        string page = File.ReadAllText(html);
        Assert.That(result.Output, Does.Contain("wrote " + html));
        Assert.That(page, Does.StartWith("<!DOCTYPE html>"));
        Assert.That(page, Does.Not.Contain("<script>"));
        Assert.That(page, Does.Contain("&lt;script&gt;x&lt;/script&gt;"));
        Assert.That(page, Does.Match(@"<span style=""background: rgb\(\d+, \d+, \d+\)"" title=""[+-]\d\.\d+ &#177; \d\.\d+"">&amp;</span>"));
        Assert.That(page, Does.Not.Contain("http"), "self-contained: nothing fetched");
        Assert.That(Directory.GetFiles(_run.Files.PathOf(""), "*.tmp*"), Is.Empty);
    }

    [Test]
    public void PlainTextHasTheSummaryAndOneRowPerUnit()
    {
        CliResult result = Worldpm.Succeed("explain", _run.Checkpoint, "--prompt", "sort 4 1 3", "--response", "1 3 4", "--method", "shapley", "--samples", "4");
        Assert.That(result.OutputLines[0], Does.Match(@"^reward -?[\d.eE+-]+ \(shapley, 4 samples\); efficiency: sum "));
        Assert.That(result.OutputLines.Count(l => l.StartsWith("response ")), Is.EqualTo(3));
        Assert.That(result.OutputLines.Count(l => l.StartsWith("prompt 0 ")), Is.EqualTo(4));
    }

    [TestCase("--steps", "0", "--steps")]
    [TestCase("--method", "lime", "--method")]
    [TestCase("--samples", "1", "--samples")]
    [TestCase("--response", " ", "--response")]
    public void BadInputIsAUsageErrorNamingTheOption(string option, string value, string named)
    {
        var args = new List<string> { "explain", _run.Checkpoint, "--prompt", "q", "--response", "a" };
        int at = args.IndexOf(option);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([option, value]);
        CliResult result = Worldpm.Run([.. args]);
        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage), result.ToString);
        Assert.That(result.Error.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(result.Error, Does.Contain(named));
    }

    [TestCase("--steps", "8", "shapley")]
    [TestCase("--steps", "8", "grad-input")]
    [TestCase("--samples", "4", "integrated-gradients")]
    [TestCase("--samples", "4", "grad-input")]
    [TestCase("--samples", "4", null)]
    public void AnOptionOfAnotherMethodIsAUsageErrorNamingItAndTheMethod(string option, string value, string? method)
    {
        // null: --method left out, so the default (integrated gradients) is the method named.
        string[] methodArgs = method is null ? [] : ["--method", method];
        CliResult result = Worldpm.Run(["explain", _run.Checkpoint, "--prompt", "q", "--response", "a", option, value, .. methodArgs]);
        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage), result.ToString);
        Assert.That(result.Error.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(result.Error, Does.Contain(option));
        Assert.That(result.Error, Does.Contain("--method " + (method ?? "integrated-gradients")));
        Assert.That(result.Output, Is.Empty, "refused before any work");
    }

    [Test]
    public void AMissingCheckpointIsAUsageError()
    {
        CliResult result = Worldpm.Run("explain", _run.Files.PathOf("none"), "--prompt", "q", "--response", "a");
        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage));
        Assert.That(result.Error, Does.Contain("model directory"));
    }
}
