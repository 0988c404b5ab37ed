using System.Text.Json;
using WorldPM.Data;

namespace WorldPM.Cli.Tests;

/// <summary>
/// <c>worldpm prepare</c> and the token store in <c>train</c> and <c>eval</c>: training on a store gives the losses
/// training on the raw file gives, evaluating one the same report; a store made for another tokenizer or max length is an
/// error naming both; bad --out and option values name the option.
/// </summary>
[BackendNeutral]
public class PrepareCommandTests
{
    /// <summary>The data and tiny config every test reads; each test writes its stores and runs under its own names.</summary>
    private readonly TestFiles _files = new();
    private string _data = null!, _config = null!;

    [OneTimeSetUp]
    public void WriteInputs() => (_data, _config) = (_files.WritePairs("pairs.jsonl", 40), _files.WriteTinyConfig());

    [OneTimeTearDown]
    public void DeleteThem() => _files.Dispose();

    private string Prepare(params string[] more)
    {
        string store = _files.PathOf($"pairs-{Guid.NewGuid():N}.store");
        Worldpm.Succeed(["prepare", _data, "--out", store, "--max-length", "128", .. more]);
        return store;
    }

    private double[] TrainLosses(string data, string run)
    {
        string metrics = _files.PathOf(run + ".metrics.jsonl");
        Worldpm.Succeed("train", data, "--out", _files.PathOf(run), "--config", _config, "--max-length", "128", "--steps", "4",
            "--batch", "4", "--metrics", metrics);
        return File.ReadAllLines(metrics).Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "step").Select(e => e.GetProperty("loss").GetDouble()).ToArray();
    }

    [Test]
    public void PrepareSummarisesThePairsAndTokensAsOneJsonObject()
    {
        string data = _files.PathOf("with-a-bad-record.jsonl");
        File.WriteAllText(data, File.ReadAllText(_data) + "{\"prompt\": \"no responses\"}\n");
        string store = _files.PathOf("summarised.store");
        CliResult result = Worldpm.Succeed("prepare", data, "--out", store, "--max-length", "128", "--json");

        JsonElement json = JsonDocument.Parse(result.Output).RootElement;
        Assert.That(json.GetProperty("pairs").GetInt32(), Is.EqualTo(40));
        Assert.That(json.GetProperty("bad_records").GetInt32(), Is.EqualTo(1));
        Assert.That(json.GetProperty("files")[0].GetProperty("bad_records").GetInt32(), Is.EqualTo(1));
        Assert.That(json.GetProperty("pairs_per_second").GetDouble(), Is.GreaterThan(0));
        using TokenStore opened = TokenStore.Open(store);
        Assert.That(json.GetProperty("tokens").GetInt64(), Is.EqualTo(opened.Sum(p => (long)p.Chosen.Length + p.Rejected.Length)));
        string text = Worldpm.Succeed("prepare", data, "--out", store, "--max-length", "128").Output;
        Assert.That(text, Does.Contain($"data {data}: 40 pairs from 1 file(s); 1 bad records").And.Contain("wrote " + store));
    }

    [Test]
    public void TrainingOnAStoreGivesTheLossesOfTrainingOnTheRawFile()
    {
        string store = Prepare();
        double[] raw = TrainLosses(_data, "raw-run"), stored = TrainLosses(store, "store-run");
        Assert.That(raw, Has.Length.EqualTo(4));
        Assert.That(stored, Is.EqualTo(raw));
    }

    [Test]
    public void EvaluatingAStoreGivesTheReportOfTheRawFile()
    {
        string store = Prepare(), run = _files.PathOf("evaluated-run");
        Worldpm.Succeed("train", _data, "--out", run, "--config", _config, "--max-length", "128", "--steps", "2", "--batch", "4");
        JsonElement Overall(string data) => JsonDocument.Parse(Worldpm.Succeed("eval", run, data, "--max-length", "128", "--json").Output)
            .RootElement.GetProperty("overall");
        JsonElement raw = Overall(_data), stored = Overall(store);
        Assert.That(stored.GetProperty("pairs").GetInt32(), Is.EqualTo(40));
        Assert.That(stored.ToString(), Is.EqualTo(raw.ToString()));
    }

    [Test]
    public void RawDataIsPreparedOnTheFlyIntoAStoreThatIsGoneAfterwards()
    {
        string run = _files.PathOf("on-the-fly-run");
        static string Folder(CliResult result)
        {
            string line = result.OutputLines.Single(l => l.StartsWith("preparing data ", StringComparison.Ordinal));
            return line[(line.LastIndexOf(" in ", StringComparison.Ordinal) + 4)..];
        }
        // Scratch folders as a killed preparation leaves them: one of a process that is gone, untouched for an hour;
        // one of an id unknown here but written a moment ago (a live process of another PID namespace sharing the
        // folder); one of this live process.
        string orphan = Path.Combine(run, $".worldpm-prepared-{int.MaxValue}-0"), live = Path.Combine(run, $".worldpm-prepared-{Environment.ProcessId}-0");
        string recent = Path.Combine(run, $".worldpm-prepared-{int.MaxValue - 1}-0");
        Directory.CreateDirectory(orphan);
        File.WriteAllText(Path.Combine(orphan, "part"), "x");
        File.SetLastWriteTimeUtc(Path.Combine(orphan, "part"), DateTime.UtcNow.AddHours(-1));
        Directory.SetLastWriteTimeUtc(orphan, DateTime.UtcNow.AddHours(-1));
        Directory.CreateDirectory(recent);
        File.WriteAllText(Path.Combine(recent, "part"), "x");
        Directory.SetLastWriteTimeUtc(recent, DateTime.UtcNow.AddHours(-1));
        Directory.CreateDirectory(live);
        CliResult trained = Worldpm.Succeed("train", _data, "--out", run, "--config", _config, "--max-length", "128", "--steps", "1",
            "--batch", "4");
        Assert.That(orphan, Does.Not.Exist, "the folder of a process that is gone is removed");
        Assert.That(recent, Does.Exist, "a folder written to in the last minutes is left alone whatever its id");
        Assert.That(live, Does.Exist, "the folder of a live process is left to it");
        Directory.Delete(live);
        Directory.Delete(recent, recursive: true);
        CliResult evaluated = Worldpm.Succeed("eval", run, _data, "--max-length", "128");

        Assert.That(Folder(trained), Does.StartWith(Path.GetFullPath(run) + Path.DirectorySeparatorChar), "under the run directory");
        Assert.That(Folder(evaluated), Does.StartWith(Path.GetFullPath(Path.GetTempPath())), "in the system temp folder");
        Assert.That(Folder(trained), Does.Not.Exist);
        Assert.That(Folder(evaluated), Does.Not.Exist);
        Assert.That(Directory.GetFileSystemEntries(run, ".worldpm-*"), Is.Empty, "no scratch file left in the run directory");
        Assert.That(trained.Output, Does.Contain($"data {_data}: 40 pairs from 1 file(s); 0 bad records")
            .And.Contain("training tokens: "));
        Assert.That(evaluated.Output, Does.Contain($"data {_data}: 40 pairs from 1 file(s); 0 bad records").And.Contain("tokens: "));
    }

    [Test]
    public void AStoreForAnotherTokenizerOrMaxLengthIsAnErrorNamingBoth()
    {
        string bpe = TinyBpeTokenizer.Write(_files.PathOf(Guid.NewGuid().ToString("N")));
        string store = Prepare("--tokenizer", bpe);
        CliResult other = Worldpm.Run("train", store, "--out", _files.PathOf(Guid.NewGuid().ToString("N")), "--config", _config, "--max-length", "128", "--steps", "1");
        Assert.That(other.ExitCode, Is.EqualTo(1), other.ToString);
        Assert.That(other.Error, Does.Contain(store).And.Contain($"prepared with tokenizer '{bpe}'").And.Contain("the model uses tokenizer 'byte'"));

        store = Prepare();
        CliResult longer = Worldpm.Run("train", store, "--out", _files.PathOf(Guid.NewGuid().ToString("N")), "--config", _config, "--max-length", "64", "--steps", "1");
        Assert.That(longer.Error, Does.Contain("max length 128").And.Contain("max length 64"), longer.ToString);
    }

    [Test]
    public void BadPrepareOptionsNameTheOption()
    {
        CliResult folder = Worldpm.Run("prepare", _data, "--out", _files.Root);
        Assert.That(folder.ExitCode, Is.EqualTo(2));
        Assert.That(folder.Error, Does.Contain("--out").And.Contain("is a directory"));
        CliResult missing = Worldpm.Run("prepare", _data, "--out", _files.PathOf("no/such/folder/x.store"));
        Assert.That(missing.Error, Does.Contain("--out").And.Contain("does not exist"));
        CliResult shortLength = Worldpm.Run("prepare", _data, "--out", _files.PathOf("x.store"), "--max-length", "2");
        Assert.That(shortLength.ExitCode, Is.EqualTo(2));
        Assert.That(shortLength.Error, Does.Contain("--max-length"));
        CliResult format = Worldpm.Run("prepare", _data, "--out", _files.PathOf("x.store"), "--format", "nope");
        Assert.That(format.Error, Does.Contain("--format"));
        Assert.That(File.Exists(_files.PathOf("x.store")), Is.False);
    }

    [Test]
    public void StrictStopsAtTheFirstBadRecordAndLeavesNoStore()
    {
        string data = _files.PathOf("strict.jsonl"), store = _files.PathOf("strict.store");
        File.WriteAllText(data, File.ReadAllText(_data) + "{\"prompt\": \"no responses\"}\n");
        CliResult strict = Worldpm.Run("prepare", data, "--out", store, "--strict", "--format", "generic-json");
        Assert.That(strict.ExitCode, Is.EqualTo(1), strict.ToString);
        Assert.That(strict.Error, Does.Contain($"{data}:41"));
        Assert.That(File.Exists(store), Is.False);
        Assert.That(Directory.GetFiles(_files.Root, "*.tmp"), Is.Empty, "no temp file is left");
    }

    [Test]
    public void AStoreGoesAlone()
    {
        string store = Prepare();
        CliResult mixed = Worldpm.Run("train", store, _data, "--out", _files.PathOf(Guid.NewGuid().ToString("N")), "--config", _config, "--steps", "1");
        Assert.That(mixed.ExitCode, Is.EqualTo(2), mixed.ToString);
        Assert.That(mixed.Error, Does.Contain("is a token store; give it alone"));
    }
}
