using System.Text.Json;

namespace WorldPM.Cli.Tests;

/// <summary>The data options every data-reading command takes (--format, --strict, the readers' settings) and the
/// per-file account of a folder, shown through <c>eval</c>.</summary>
public class DataOptionsTests
{
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    private const string Good = """{"prompt": "Which is larger, 3 or 5?", "chosen": "5", "rejected": "3"}""";

    private CliResult Eval(params string[] args) => Worldpm.Run(["eval", _run.Checkpoint, .. args, "--max-length", "128"]);

    [Test]
    public void StrictStopsAtTheFirstBadRecordNamingFileAndLine()
    {
        string data = _run.Files.PathOf("one-bad.jsonl");
        File.WriteAllLines(data, [Good, """{"prompt": "p", "chosen": "", "rejected": "x"}""", Good]);

        CliResult lenient = Eval(data, "--json");
        CliResult strict = Eval(data, "--strict");

        Assert.That(lenient.ExitCode, Is.EqualTo(0), lenient.ToString);
        Assert.That(JsonDocument.Parse(lenient.Output).RootElement.GetProperty("bad_records").GetInt32(), Is.EqualTo(1));
        Assert.That(strict.ExitCode, Is.EqualTo(Cli.Failure), strict.ToString);
        Assert.That(strict.Error, Does.Contain($"{data}:2").And.Contain("empty chosen response"));
    }

    [Test]
    public void FormatOverridesDetectionAndAnUnknownFormatIsAUsageError()
    {
        string data = _run.Files.PathOf("odd-first.jsonl");
        File.WriteAllLines(data, ["""{"question": "not a pair"}""", Good, Good]);

        CliResult detected = Eval(data);
        CliResult named = Eval(data, "--format", "generic-json", "--json");
        CliResult unknown = Eval(data, "--format", "csvish");

        Assert.That(detected.ExitCode, Is.EqualTo(Cli.Failure));
        Assert.That(detected.Error, Does.Contain("cannot tell the preference-data format").And.Contain("--format")
            .And.Not.Contain("DataLoadOptions"));
        Assert.That(named.ExitCode, Is.EqualTo(0), named.ToString);
        JsonElement json = JsonDocument.Parse(named.Output).RootElement;
        Assert.That((json.GetProperty("overall").GetProperty("pairs").GetInt32(), json.GetProperty("bad_records").GetInt32()), Is.EqualTo((2, 1)));
        Assert.That(unknown.ExitCode, Is.EqualTo(Cli.Usage));
        Assert.That(unknown.Error, Does.Contain("--format is csvish").And.Contain("generic-json"));
    }

    [Test]
    public void TrainTakesTheSameDataOptions()
    {
        string data = _run.Files.PathOf("train-one-bad.jsonl");
        File.WriteAllLines(data, [Good, Good, """{"prompt": "p", "chosen": 3, "rejected": "x"}""", Good]);
        string[] common = ["train", data, "--out", _run.Files.PathOf("strict-run"), "--config", _run.Files.WriteTinyConfig(),
            "--max-length", "128", "--steps", "1", "--batch", "2", "--quiet"];

        CliResult unknown = Worldpm.Run([.. common, "--format", "csvish"]);
        CliResult strict = Worldpm.Run([.. common, "--strict"]);

        Assert.That((unknown.ExitCode, strict.ExitCode), Is.EqualTo((Cli.Usage, Cli.Failure)), () => unknown + "\n" + strict);
        Assert.That(unknown.Error, Does.Contain("--format is csvish"));
        Assert.That(strict.Error, Does.Contain($"{data}:3"));
    }

    [Test]
    public void AFolderIsAccountedForFileByFile()
    {
        string folder = _run.Files.PathOf("mixed-folder");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "a.jsonl"), [Good, Good]);
        File.WriteAllLines(Path.Combine(folder, "b.jsonl"), ["""{"prompt": "p", "chosen": "same", "rejected": "same"}"""]);
        File.WriteAllText(Path.Combine(folder, "votes.csv"), "prompt,a,b\n");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not data\n");

        CliResult result = Eval(folder);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
        Assert.That(result.OutputLines, Has.Some.EqualTo("a.jsonl (generic-json): 2 pairs, 0 bad, 0 skipped"));
        Assert.That(result.OutputLines, Has.Some.EqualTo("b.jsonl (generic-json): 0 pairs, 0 bad, 1 skipped  <- no pairs"));
        Assert.That(result.OutputLines, Has.Some.EqualTo("votes.csv (csv): 0 pairs, 1 bad, 0 skipped  <- no pairs"), "a CSV file is read, not skipped");
        Assert.That(result.OutputLines, Has.Some.StartsWith("notes.txt: left out (a folder load reads .jsonl, .json, .xml, .parquet, .csv"));
    }

    [Test]
    public void ColumnOptionsNameTheCsvColumns()
    {
        string data = _run.Files.PathOf("renamed.csv");
        File.WriteAllText(data, "question,good,poor\n\"Which is larger, 3 or 5?\",5,3\n\"Which is larger,\n9 or 2?\",9,2\n");

        CliResult unmapped = Eval(data);
        CliResult mapped = Eval(data, "--prompt-column", "question", "--chosen-column", "good", "--rejected-column", "poor", "--json");
        CliResult empty = Eval(data, "--chosen-column", " ");

        Assert.That(unmapped.ExitCode, Is.EqualTo(Cli.Failure), unmapped.ToString);
        Assert.That(unmapped.Output, Does.Contain($"bad record {data}:1: no column \"prompt\", \"chosen\", \"rejected\" (columns: question, good, poor)"));
        Assert.That(mapped.ExitCode, Is.EqualTo(0), mapped.ToString);
        Assert.That(JsonDocument.Parse(mapped.Output).RootElement.GetProperty("overall").GetProperty("pairs").GetInt32(), Is.EqualTo(2));
        Assert.That(empty.ExitCode, Is.EqualTo(Cli.Usage), empty.ToString);
        Assert.That(empty.Error, Does.Contain("--chosen-column"));
    }

    [Test]
    public void AnswerRankingsAreNamedByFormatAndTheirTiesAreCounted()
    {
        string data = _run.Files.PathOf("rankings.jsonl");
        File.WriteAllLines(data,
        [
            """{"question": "Which is larger, 3 or 5?", "answers": ["5", "3", "five"], "judgments": [[0, 1, 1], [0, 2, 0], [1, 2, -1]]}""",
        ]);

        CliResult result = Eval(data, "--format", "answer-rankings");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
        Assert.That(result.OutputLines, Has.Some.EqualTo(
            $"data {data}: 2 pairs from 1 file(s); 0 bad records, 0 skipped (identical responses), 1 tied comparisons"));
    }

    [Test]
    public void StackExchangeMarginAndBonusReachTheReader()
    {
        string posts = _run.Files.PathOf("Posts.xml");
        File.WriteAllText(posts, """
            <?xml version="1.0" encoding="utf-8"?>
            <posts>
              <row Id="1" PostTypeId="1" AcceptedAnswerId="3" Score="5" Title="Which is larger?" Body="&lt;p&gt;3 or 5?&lt;/p&gt;" />
              <row Id="2" PostTypeId="2" ParentId="1" Score="4" Body="&lt;p&gt;5&lt;/p&gt;" />
              <row Id="3" PostTypeId="2" ParentId="1" Score="3" Body="&lt;p&gt;3&lt;/p&gt;" />
              <row Id="4" PostTypeId="2" ParentId="1" Score="1" Body="&lt;p&gt;four&lt;/p&gt;" />
            </posts>
            """);
        int Pairs(params string[] options)
        {
            CliResult r = Eval([posts, .. options, "--json"]);
            Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString);
            return JsonDocument.Parse(r.Output).RootElement.GetProperty("overall").GetProperty("pairs").GetInt32();
        }

        // Scores 4, 3 (accepted) and 1, counted by hand: any difference pairs all three; a margin to exceed of 2.5
        // keeps only 4 vs 1; with 2 bonus points the accepted answer scores 5 and 5 vs 1 joins 4 vs 1.
        Assert.That(Pairs(), Is.EqualTo(3));
        Assert.That(Pairs("--min-score-margin", "1.5"), Is.EqualTo(2));
        Assert.That(Pairs("--min-score-margin", "2.5"), Is.EqualTo(1));
        Assert.That(Pairs("--min-score-margin", "2.5", "--accepted-answer-bonus", "2"), Is.EqualTo(2));
    }
}
