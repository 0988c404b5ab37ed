using System.Text.Json;
using WorldPM.Checkpoints;

namespace WorldPM.Cli.Tests;

public class TrainCommandTests
{
    private TestFiles _files = null!;
    private string _data = null!;
    private string _config = null!;

    [SetUp]
    public void CreateFiles()
    {
        _files = new TestFiles();
        _data = _files.WritePairs("pairs.jsonl", 60);
        _config = _files.WriteTinyConfig();
    }

    [TearDown]
    public void DeleteFiles() => _files.Dispose();

    private CliResult Train(string run, int steps, params string[] more) => Worldpm.Succeed(
    [
        "train", _data, "--out", run, "--config", _config, "--max-length", "128", "--steps", steps.ToString(),
        "--batch", "4", "--metrics", _files.PathOf("metrics.jsonl"), .. more,
    ]);

    private List<JsonElement> MetricsLines(string type) =>
        File.ReadAllLines(_files.PathOf("metrics.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.GetProperty("type").GetString() == type)
            .ToList();

    [TestCase("bf16", TensorDType.BF16)]
    [TestCase("f16", TensorDType.F16)]
    public void HalfPrecisionTrainingSavesItsWeightsAndFp32MastersThatEvalReads(string precision, TensorDType dtype)
    {
        string run = _files.PathOf("run-" + precision);
        CliResult result = Train(run, 3, "--precision", precision);

        Assert.That(result.Output, Does.Contain($"precision {precision}"));
        Assert.That(MetricsLines("step").Select(e => e.GetProperty("loss").GetDouble()), Has.All.Matches<double>(double.IsFinite));
        string checkpoint = Path.Combine(run, "step-3");
        using (var weights = SafeTensorsFile.Open(Path.Combine(checkpoint, "model.safetensors")))
        using (var state = SafeTensorsFile.Open(Path.Combine(checkpoint, "training_state.safetensors")))
        {
            Assert.That(weights.Tensors.Select(t => t.DType), Has.All.EqualTo(dtype), "weights in the training dtype");
            foreach (TensorInfo t in weights.Tensors)
                Assert.That(state[t.Name + ".master"].DType, Is.EqualTo(TensorDType.F32), t.Name);
        }
        CliResult eval = Worldpm.Succeed("eval", run, _data, "--max-length", "128", "--json");
        Assert.That(JsonDocument.Parse(eval.Output).RootElement.GetProperty("overall").GetProperty("pairs").GetInt32(), Is.EqualTo(60));
    }

    [Test]
    public void RecomputeTrainsBitwiseLikeKeepingTheActivations()
    {
        _config = _files.WriteTinyConfig("two-layers.json", layers: 2);
        string kept = _files.PathOf("run-kept"), recomputed = _files.PathOf("run-recomputed");
        Train(kept, 3);
        double[] keptLosses = [.. MetricsLines("step").Select(e => e.GetProperty("loss").GetDouble())];
        File.Delete(_files.PathOf("metrics.jsonl"));

        CliResult result = Train(recomputed, 3, "--recompute");

        Assert.That(result.Output, Does.Contain("activations recomputed per layer"));
        Assert.That(MetricsLines("step").Select(e => e.GetProperty("loss").GetDouble()), Is.EqualTo(keptLosses));
        Assert.That(File.ReadAllBytes(Path.Combine(recomputed, "step-3", "model.safetensors")),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(kept, "step-3", "model.safetensors"))));
    }

    // Recorded steps on emu (which enforces the capture rules a GPU has) against eager ones: the same final weights.
    [Test, BackendNeutral]  // --backend emu: the same run in either pass
    public void CudaGraphsOnTrainsOnEmuBitwiseLikeOff()
    {
        string recorded = _files.PathOf("run-graphs-on"), eager = _files.PathOf("run-graphs-off");
        CliResult result = Train(recorded, 6, "--backend", "emu", "--cuda-graphs", "on", "--no-packing");
        Train(eager, 6, "--backend", "emu", "--cuda-graphs", "off", "--no-packing");

        Assert.That(result.Output, Does.Match(@"cuda graphs: [1-9]\d* of 6 training steps replayed"));
        Assert.That(File.ReadAllBytes(Path.Combine(recorded, "step-6", "model.safetensors")),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(eager, "step-6", "model.safetensors"))));
    }

    // fp16 records too: its loss scale is part of a recording's key (a new scale runs eagerly once, then replays).
    [Test, BackendNeutral]  // --backend emu: the same run in either pass
    public void CudaGraphsOnTrainsFp16OnEmuBitwiseLikeOff()
    {
        string recorded = _files.PathOf("run-f16-graphs-on"), eager = _files.PathOf("run-f16-graphs-off");
        CliResult result = Train(recorded, 6, "--backend", "emu", "--precision", "f16", "--cuda-graphs", "on", "--no-packing");
        Train(eager, 6, "--backend", "emu", "--precision", "f16", "--cuda-graphs", "off", "--no-packing");

        Assert.That(result.Output, Does.Match(@"cuda graphs: [1-9]\d* of 6 training steps replayed"));
        foreach (string file in new[] { "model.safetensors", "training_state.safetensors" })
            Assert.That(File.ReadAllBytes(Path.Combine(recorded, "step-6", file)),
                Is.EqualTo(File.ReadAllBytes(Path.Combine(eager, "step-6", file))), file);
    }

    [Test]
    public void CudaGraphsOnForAStepThatCannotBeRecordedIsAUsageErrorNamingTheReason()
    {
        CliResult result = Worldpm.Run("train", _data, "--out", _files.PathOf("run-refused"), "--config", _config,
            "--backend", "emu", "--cuda-graphs", "on", "--no-packing", "--loss", "hinge");

        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Error, Does.Contain("--cuda-graphs on").And.Contain("runs on the host"));
    }

    [Test]
    public void ScoringTokenIsSavedWithTheCheckpointAndKeptOnResume()
    {
        string run = _files.PathOf("run-im-end");
        Train(run, 2, "--scoring-token", "im_end");

        string config = File.ReadAllText(Path.Combine(run, "step-2", "config.json"));
        Assert.That(JsonDocument.Parse(config).RootElement.GetProperty("scoring_token").GetString(), Is.EqualTo("im_end"));
        Worldpm.Succeed("eval", run, _data, "--max-length", "128", "--json");

        CliResult clash = Worldpm.Run("train", _data, "--out", run, "--resume", "--steps", "3", "--max-length", "128",
            "--scoring-token", "endoftext");
        Assert.That(clash.ExitCode, Is.EqualTo(Cli.Usage));
        Assert.That(clash.Error, Does.Contain("--scoring-token endoftext").And.Contain("im_end"));
        Train(run, 3, "--resume");
    }

    [Test]
    public void UnknownScoringTokenIsAUsageError()
    {
        CliResult result = Worldpm.Run("train", _data, "--out", _files.PathOf("run"), "--scoring-token", "eos");
        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage));
        Assert.That(result.Error, Does.Contain("'eos'").And.Contain("endoftext or im_end"));
    }

    [Test]
    public void UnknownPrecisionIsAUsageError()
    {
        CliResult result = Worldpm.Run("train", _data, "--out", _files.PathOf("run"), "--precision", "f8");
        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage));
        Assert.That(result.Error, Does.Contain("f8"));
    }

    [Test]
    public void AMaxShardSizeSplitsTheWeightsIntoShardsThatEvalReads()
    {
        string run = _files.PathOf("run-sharded");
        Train(run, 1, "--max-shard-size", "20kB");

        string checkpoint = Path.Combine(run, "step-1");
        Assert.That(Path.Combine(checkpoint, "model.safetensors"), Does.Not.Exist);
        using JsonDocument index = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, "model.safetensors.index.json")));
        string[] shards = index.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString()!).Distinct().ToArray();
        Assert.That(shards, Has.Length.GreaterThan(1));
        foreach (string shard in shards)
        {
            using var file = SafeTensorsFile.Open(Path.Combine(checkpoint, shard));
            long data = file.Tensors.Sum(t => t.ByteLength);
            Assert.That(data <= 20_000 || file.Tensors.Count == 1, $"{shard} holds {data} bytes in {file.Tensors.Count} tensors");
        }
        CliResult eval = Worldpm.Succeed("eval", run, _data, "--max-length", "128", "--json");
        Assert.That(JsonDocument.Parse(eval.Output).RootElement.GetProperty("overall").GetProperty("pairs").GetInt32(), Is.EqualTo(60));
    }

    [Test]
    public void TrainingLeavesACheckpointWithConfigWeightsAndOptimizerState()
    {
        string run = _files.PathOf("run");
        CliResult result = Train(run, 3);

        string checkpoint = Path.Combine(run, "step-3");
        Assert.That(Path.Combine(checkpoint, "config.json"), Does.Exist);
        Assert.That(Path.Combine(checkpoint, "model.safetensors"), Does.Exist);
        Assert.That(Path.Combine(checkpoint, "training_state.safetensors"), Does.Exist);
        Assert.That(result.OutputLines[^1], Does.Contain(checkpoint));
    }

    [Test]
    public void TheMetricsFileHasOneLinePerStepWithFiniteLosses()
    {
        Train(_files.PathOf("run"), 4);

        var steps = MetricsLines("step");
        Assert.That(steps.Select(s => s.GetProperty("step").GetInt64()), Is.EqualTo(new long[] { 1, 2, 3, 4 }));
        Assert.That(steps.Select(s => s.GetProperty("loss").GetDouble()), Is.All.Matches<double>(double.IsFinite));
        foreach (string key in new[] { "accuracy", "margin", "grad_norm", "lr", "tokens_per_s", "seconds" })
            Assert.That(steps.All(s => s.TryGetProperty(key, out _)), $"every step object has \"{key}\"");
    }

    [Test]
    public void TheSummaryReportsPairsBadRecordsAndTruncation()
    {
        File.AppendAllText(_data, "{\"prompt\": \"no responses\"}\n");
        CliResult result = Train(_files.PathOf("run"), 1);

        Assert.That(result.Output, Does.Contain("60 pairs"));
        Assert.That(result.Output, Does.Contain("pairs.jsonl:61: missing field \"chosen\""));
        Assert.That(result.Output, Does.Contain("of 60 pairs truncated"));
    }

    [Test]
    public void ResumeContinuesFromTheLatestCheckpointUpToTheTotalSteps()
    {
        string run = _files.PathOf("run");
        Train(run, 3);
        CliResult resumed = Train(run, 5, "--resume");

        Assert.That(resumed.Output, Does.Contain("resumed at step 3, trained 2 more steps"));
        Assert.That(Path.Combine(run, "step-5", "model.safetensors"), Does.Exist);
        Assert.That(MetricsLines("step").Select(s => s.GetProperty("step").GetInt64()), Is.EqualTo(new long[] { 1, 2, 3, 4, 5 }));
    }

    [Test]
    public void ResumeRefusesOtherDataOrBatchesUnlessAskedToGoOn()
    {
        string run = _files.PathOf("run");
        Train(run, 2);
        string[] Resume(string data, params string[] more) =>
            ["train", data, "--out", run, "--config", _config, "--max-length", "128", "--steps", "4", "--resume", .. more];

        CliResult otherBatch = Worldpm.Run([.. Resume(_data), "--batch", "6"]);
        Assert.That(otherBatch.ExitCode, Is.EqualTo(1), otherBatch.ToString);
        Assert.That(otherBatch.Error, Does.Contain("pairs per micro-batch 4 then, 6 now").And.Contain("--resume-anyway"));

        // Same count of pairs, one response changed: only the fingerprint tells.
        string edited = _files.PathOf("edited.jsonl");
        string[] lines = File.ReadAllLines(_data);
        lines[7] = lines[7].Replace("\"rejected\":\"", "\"rejected\":\"edited ", StringComparison.Ordinal);
        Assert.That(lines[7], Does.Contain("edited"), "the test data changed");
        File.WriteAllLines(edited, lines);
        CliResult otherData = Worldpm.Run([.. Resume(edited), "--batch", "4"]);
        Assert.That(otherData.ExitCode, Is.EqualTo(1), otherData.ToString);
        Assert.That(otherData.Error, Does.Contain("content or order differs"));

        CliResult anyway = Worldpm.Run([.. Resume(edited), "--batch", "4", "--resume-anyway"]);
        Assert.That(anyway.ExitCode, Is.EqualTo(0), anyway.ToString);
        Assert.That(anyway.Output, Does.Contain("resumed at step 2"));
    }

    [Test]
    public void ASecondWriterOfARunDirectoryFailsAtOnceNamingTheFirst()
    {
        string run = _files.PathOf("busy-run");
        using (WorldPM.Checkpoints.RunDirectoryLock.Acquire(run))
        {
            CliResult second = Worldpm.Run("train", _data, "--out", run, "--config", _config, "--steps", "1");
            Assert.That(second.ExitCode, Is.EqualTo(1), second.ToString);
            Assert.That(second.Error, Does.Contain("in use by another training process").And.Contain($"pid {Environment.ProcessId}"));
            Assert.That(Path.Combine(run, "latest"), Does.Not.Exist, "nothing written");
        }
        Train(run, 1);  // released: the directory is usable again
        Assert.That(Path.Combine(run, "step-1"), Does.Exist);
    }

    [Test]
    public void TheBuiltInModelScoresBeyondItsTrainingLength()
    {
        string run = _files.PathOf("short-run");
        Worldpm.Succeed("train", _data, "--out", run, "--max-length", "64", "--steps", "1", "--batch", "4", "--quiet");

        JsonElement config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "step-1", "config.json"))).RootElement;
        Assert.That(config.GetProperty("max_position_embeddings").GetInt32(), Is.EqualTo(32768), "Qwen2's, not the training length");

        string longResponse = string.Concat(Enumerable.Repeat("The larger one is 97. ", 12));  // about 260 byte tokens
        CliResult scored = Worldpm.Succeed("score", run, "--prompt", "Which is larger, 3 or 97?", "--response", longResponse,
            "--max-length", "400", "--json");
        Assert.That(JsonDocument.Parse(scored.OutputLines.Single()).RootElement.GetProperty("reward").GetDouble(), Is.Not.NaN);
    }

    [Test]
    public void EvalFractionHoldsOutPairsAndEvaluatesThemAtTheEnd()
    {
        CliResult result = Train(_files.PathOf("run"), 2, "--eval-fraction", "0.25");

        Assert.That(result.Output, Does.Contain("held out 15 of 60 pairs"));
        JsonElement eval = MetricsLines("eval").Single();
        Assert.That(eval.GetProperty("step").GetInt64(), Is.EqualTo(2));
        Assert.That(eval.GetProperty("overall").GetProperty("pairs").GetInt32(), Is.EqualTo(15));
        JsonElement overall = eval.GetProperty("overall");
        double accuracy = overall.GetProperty("accuracy").GetDouble();
        Assert.That(accuracy, Is.InRange(overall.GetProperty("accuracy_ci_low").GetDouble(), overall.GetProperty("accuracy_ci_high").GetDouble()));
        Assert.That(result.OutputLines, Has.Some.Match(@"^accuracy 95 % interval [\d.]+ % to [\d.]+ % \(Wilson\): "),
            "the held-out evaluation says how far from chance its accuracy is");
    }

    [Test]
    public void QuietPrintsOnlyTheCheckpointPath()
    {
        CliResult result = Train(_files.PathOf("run"), 1, "--quiet");

        Assert.That(result.OutputLines, Has.Length.EqualTo(1));
        Assert.That(result.OutputLines[0], Does.Contain("step-1"));
    }

    [Test]
    public void ATokenizerDirectoryIsUsedAndTravelsWithTheRunToEval()
    {
        string tokenizer = TinyBpeTokenizer.Write(_files.PathOf("tokenizer"));
        string config = _files.PathOf("bpe.json");
        File.WriteAllText(config, File.ReadAllText(_config).Replace("259", TinyBpeTokenizer.VocabSize.ToString()));
        string run = _files.PathOf("run");

        CliResult train = Worldpm.Succeed("train", _data, "--out", run, "--config", config, "--tokenizer", tokenizer, "--max-length", "128", "--steps", "1");
        CliResult eval = Worldpm.Succeed("eval", run, _data);

        Assert.That(train.Output, Does.Contain($"tokenizer {tokenizer}"));
        Assert.That(Path.Combine(run, "vocab.json"), Does.Exist);
        Assert.That(eval.Output, Does.Contain($"tokenizer {Path.GetFullPath(run)}"));
        Assert.That(eval.Output, Does.Contain("overall: 60 pairs"));
    }

    [Test]
    public void AModelWhoseVocabularyIsTooSmallForTheTokenizerIsRefused()
    {
        string tokenizer = TinyBpeTokenizer.Write(_files.PathOf("tokenizer"));

        CliResult result = Worldpm.Run("train", _data, "--out", _files.PathOf("run"), "--config", _config, "--tokenizer", tokenizer);

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.Contain("vocab_size 259 is smaller than the vocabulary of tokenizer"));
    }
}
