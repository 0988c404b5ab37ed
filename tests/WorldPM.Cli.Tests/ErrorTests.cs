namespace WorldPM.Cli.Tests;

/// <summary>A bad command line or input ends with one readable line naming it, and an exit code: 2 usage, 1 failure.</summary>
public class ErrorTests
{
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    private static void AssertOneLineError(CliResult result, int exitCode, params string[] mentions)
    {
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString);
        string[] lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), result.ToString);
        Assert.That(lines[0], Does.StartWith("worldpm: "));
        foreach (string mention in mentions) Assert.That(lines[0], Does.Contain(mention));
        Assert.That(result.Error, Does.Not.Contain(" at WorldPM."), "no stack trace");
    }

    private string[] Train(params string[] more) =>
        ["train", _run.Data, "--out", _run.Files.PathOf("new-run"), "--config", _run.Files.PathOf("tiny.json"), "--steps", "1", .. more];

    [Test]
    public void AMissingDataFileIsAUsageError() =>
        AssertOneLineError(Worldpm.Run("train", "no-such-pairs.jsonl", "--out", _run.Files.PathOf("x")), 2, "data file 'no-such-pairs.jsonl' does not exist");

    [Test]
    public void AMissingModelDirectoryIsAUsageError()
    {
        AssertOneLineError(Worldpm.Run("eval", "no-such-model", _run.Data), 2, "model directory 'no-such-model' does not exist");
        AssertOneLineError(Worldpm.Run("score", "no-such-model", "--response", "hi"), 2, "model directory 'no-such-model' does not exist");
    }

    [TestCase("abc")]
    [TestCase("-0.1")]
    [TestCase("0")]
    public void ABadLearningRateIsAUsageError(string lr) => AssertOneLineError(Worldpm.Run(Train("--lr", lr)), 2, "--lr", lr);

    [TestCase("5XB")]
    [TestCase("0")]
    [TestCase("-1GB")]
    [TestCase("GB")]
    public void ABadMaxShardSizeIsAUsageError(string size) =>
        AssertOneLineError(Worldpm.Run(Train("--max-shard-size", size)), 2, "--max-shard-size", $"'{size}'", "5GB");

    [Test]
    public void AnUnknownBackendIsAUsageErrorNamingWhereItCameFrom()
    {
        AssertOneLineError(Worldpm.Run(Train("--backend", "tpu")), 2, "--backend", "unknown backend 'tpu'");
        string? before = Environment.GetEnvironmentVariable("WORLDPM_BACKEND");
        try
        {
            Environment.SetEnvironmentVariable("WORLDPM_BACKEND", "abacus");
            AssertOneLineError(Worldpm.Run(Train()), 2, "WORLDPM_BACKEND", "unknown backend 'abacus'");
        }
        finally
        {
            Environment.SetEnvironmentVariable("WORLDPM_BACKEND", before);
        }
    }

    [Test]
    public void AnUnknownTokenizerIsAUsageError()
    {
        AssertOneLineError(Worldpm.Run(Train("--tokenizer", "sentencepiece")), 2, "unknown tokenizer 'sentencepiece'");
        AssertOneLineError(Worldpm.Run("eval", _run.Checkpoint, _run.Data, "--tokenizer", "nope"), 2, "unknown tokenizer 'nope'");
    }

    [Test]
    public void ABadModelConfigIsAFailureNamingTheFile()
    {
        string config = _run.Files.PathOf("bad-config.json");
        File.WriteAllText(config, """{"vocab_size": 259, "hidden_size": 15, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "intermediate_size": 32}""");
        AssertOneLineError(Worldpm.Run("train", _run.Data, "--out", _run.Files.PathOf("x"), "--config", config), 1, "bad-config.json", "hidden_size");
    }

    [Test]
    public void StrictModeFailsAtTheFirstBadRecordNamingFileAndLine()
    {
        string data = _run.Files.PathOf("with-bad.jsonl");
        File.WriteAllLines(data, [File.ReadLines(_run.Data).First(), """{"prompt": "x", "chosen": 3, "rejected": "y"}"""]);
        AssertOneLineError(Worldpm.Run("train", data, "--out", _run.Files.PathOf("x"), "--strict"), 1, "with-bad.jsonl:2");
    }

    [Test]
    public void AnExistingRunIsNotOverwrittenWithoutResume() =>
        AssertOneLineError(Worldpm.Run("train", _run.Data, "--out", _run.RunDirectory), 2, "--resume", _run.RunDirectory);

    [Test]
    public void EvalFractionAndEvalExcludeEachOther() =>
        AssertOneLineError(Worldpm.Run(Train("--eval", _run.Data, "--eval-fraction", "0.1")), 2, "--eval", "--eval-fraction");

    [Test]
    public void AMisspeltOptionIsNamedNotTakenForADataFile()
    {
        AssertOneLineError(Worldpm.Run(Train("--frobnicate")), 2, "unknown option '--frobnicate'", "'train'");
        AssertOneLineError(Worldpm.Run("eval", _run.Checkpoint, _run.Data, "--stritc"), 2, "unknown option '--stritc'", "'eval'");
    }

    [Test]
    public void OutNamingAFileSaysSo()
    {
        string file = _run.Files.PathOf("a-file");
        File.WriteAllText(file, "not a directory");
        AssertOneLineError(Worldpm.Run("train", _run.Data, "--out", file), 2, "--out", "a-file", "is a file");
    }

    [Test]
    public void AHugeBatchIsAUsageErrorNamingTheOption() =>
        AssertOneLineError(Worldpm.Run(Train("--batch", "2147483647")), 2, "--batch is 2147483647", "between 1 and");

    [Test]
    public void NaNWeightsAreRefusedAndNaNRewardsAreNeverPrinted()
    {
        string damaged = _run.Files.PathOf("nan-model");
        using (var context = WorldPM.Native.WorldPMContext.Create(WorldPM.Native.Backend.Cpu))
        using (var model = WorldPM.Checkpoints.RewardModelCheckpoint.Load(context, _run.Checkpoint))
        {
            model.Parameters.Single(p => p.Name == "score.2.bias").Value.CopyFrom([float.NaN]);
            WorldPM.Checkpoints.RewardModelCheckpoint.Save(model, damaged);
        }

        AssertOneLineError(Worldpm.Run("eval", damaged, _run.Data), 1, "score.2.bias", "non-finite", "--allow-nonfinite");
        AssertOneLineError(Worldpm.Run("score", damaged, "--response", "hi"), 1, "score.2.bias", "--allow-nonfinite");
        AssertOneLineError(Worldpm.Run("eval", damaged, _run.Data, "--allow-nonfinite"), 1, "NaN reward", "pair 1");
        AssertOneLineError(Worldpm.Run("score", damaged, "--response", "hi", "--response", "ho", "--allow-nonfinite"), 1,
            "NaN reward", "--response 1");
    }

    [Test]
    public void AConfigTooLargeForTheMachineIsRefusedAtOnceNamingIt()
    {
        string config = _run.Files.PathOf("deep-config.json");
        File.WriteAllText(config, """{"vocab_size": 259, "hidden_size": 64, "num_hidden_layers": 2000000000, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 192}""");
        AssertOneLineError(Worldpm.Run("train", _run.Data, "--out", _run.Files.PathOf("deep"), "--config", config), 1,
            "deep-config.json", "the model needs", "backend has");
    }
}

