using System.Diagnostics;
using System.Net;
using System.Text.Json;
using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Cli.Tests;

/// <summary>
/// <c>mpirun -np 2 worldpm train</c>: the same weights as one process with the same global batch and seed, and a
/// rank that dies or stops makes the whole launch end non-zero in bounded time with a message naming it.
/// </summary>
[TestFixture]
public class DataParallelTrainTests
{
    private TestFiles _files = null!;

    [SetUp]
    public void CreateFiles() => _files = new TestFiles();

    [TearDown]
    public void DeleteFiles() => _files.Dispose();

    private string[] TrainArgs(string run, int steps, params string[] extra) => TrainArgs(run, steps, 4, extra);

    private string[] TrainArgs(string run, int steps, int batch, params string[] extra) =>
    [
        "train", _files.PathOf("pairs.jsonl"), "--out", _files.PathOf(run), "--config", _files.PathOf("tiny.json"),
        "--max-length", "128", "--steps", steps.ToString(), "--batch", batch.ToString(), "--accumulation", "2", "--seed", "5",
        "--warmup", "0", "--metrics", _files.PathOf(run + ".jsonl"), .. extra,
    ];

    /// <summary>Runs <c>worldpm train</c> with <paramref name="arguments"/> in one process on the cpu, which must succeed.</summary>
    private static void TrainInOneProcess(string[] arguments)
    {
        CliResult result = WorldpmProcess.Run(new Dictionary<string, string> { ["WORLDPM_BACKEND"] = "cpu" }, arguments);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
    }

    private static float[] Weights(string checkpoint)
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        using RewardModel model = RewardModelCheckpoint.Load(context, checkpoint, seed: 0);
        return model.ParameterValues.ToArray();
    }

    // AdamW's first steps move every weight by about lr * sign(gradient): a weight whose gradient is rounding noise
    // (the last bias: the BT loss gradient sums to zero over a pair) would flip with the summation order. An epsilon
    // of 1e-3 keeps such weights still in both runs, so the comparisons measure the gradients' agreement.
    private static readonly string[] Optimizer = ["--lr", "1e-3", "--adam-epsilon", "1e-3"];

    /// <summary>fp32 reduction order: measured 5.4e-8 after 3 steps (with or without ZeRO-1); three steps of lr 1e-3
    /// move weights by up to 3e-3.</summary>
    private static void AssertSameWeights(float[] expected, float[] actual, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        double worst = expected.Zip(actual, (a, b) => Math.Abs((double)a - b)).Max();
        TestContext.Out.WriteLine($"{what}: largest weight difference {worst:G3}");
        Assert.That(worst, Is.LessThan(1e-6), $"{what}: largest weight difference {worst:G3}");
    }

    private List<double> Losses(string run) =>
        File.ReadLines(_files.PathOf(run + ".jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "step").Select(e => e.GetProperty("loss").GetDouble()).ToList();

    [Test]
    public void TwoRanksTrainTheWeightsOfOneProcessWithTheSameGlobalBatch()
    {
        _files.WritePairs("pairs.jsonl", 48);
        _files.WriteTinyConfig(layers: 2);
        TrainInOneProcess(TrainArgs("single", 3, Optimizer));

        using var launch = new MpiLaunch(2, TrainArgs("parallel", 3, Optimizer));
        Assert.That(launch.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), launch.Output);
        Assert.That(launch.Output, Does.Contain("data parallel: 2 ranks, 2 pairs of each micro-batch per rank"));
        Assert.That(Directory.GetDirectories(_files.PathOf("parallel")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "step-3" }),
            "one writer: rank 0");

        AssertSameWeights(Weights(_files.PathOf("single/step-3")), Weights(_files.PathOf("parallel/step-3")), "2 ranks vs one process");
        Assert.That(Losses("single").Distinct().Count(), Is.EqualTo(3), "the weights move every step");
        Assert.That(Losses("parallel"), Is.EqualTo(Losses("single")).Within(1e-5), "every step's loss, over the whole global batch");
    }

    // On emu (the cuda backend's host code, its waits counted) each rank's collectives are queued on the stream and
    // exchange when it runs: one host wait per optimizer step, the metrics' read-back, with gradient accumulation, in
    // fp32 and bf16. The reference: in fp32 one emu process with the same global batch (the bound of the cpu test
    // above); in bf16, where each rank rounds its half of the gradients before the mean, ZeRO-1 on the same 2 ranks,
    // whose reduce-scatter, sums and all-gathers reach the same mean gradients another way (the bound of the cpu bf16
    // test above), with at most one host wait per step too.
    // Packed batches (the default): attention checks their offsets on the device, so they add no wait either.
    // Two steps of a one-layer model: each emulated step takes seconds.
    [TestCase("f32")]
    [TestCase("bf16")]
    public void OnEmuTwoRanksWaitForTheDeviceAtMostOncePerStep(string precision)
    {
        // Minutes of emulated training: it runs once, in the emu pass, not again in the cpu pass.
        if (!TestBackend.IsEmulated) Assert.Ignore("runs in the emu pass (WORLDPM_BACKEND=emu)");
        _files.WritePairs("pairs.jsonl", 32);
        _files.WriteTinyConfig();
        var emu = new Dictionary<string, string> { ["WORLDPM_BACKEND"] = "emu" };
        string[] options = [.. Optimizer, "--precision", precision];
        if (precision == "f32")
        {
            CliResult single = WorldpmProcess.RunWithin(TimeSpan.FromSeconds(600), emu, TrainArgs("reference", 2, options));
            Assert.That(single.ExitCode, Is.EqualTo(0), single.ToString);
            TestContext.Out.WriteLine($"single-process host waits per step: {string.Join(", ", StepValues("reference", "host_waits", e => e.GetInt64()))}");
        }
        else
        {
            using var zero1 = new MpiLaunch(emu, 2, TrainArgs("reference", 2, [.. options, "--zero1"]));
            Assert.That(zero1.WaitForExit(TimeSpan.FromSeconds(600)), Is.EqualTo(0), zero1.Output);
            List<long?> zeroWaits = StepValues("reference", "host_waits", e => e.GetInt64());
            TestContext.Out.WriteLine($"ZeRO-1 host waits per step: {string.Join(", ", zeroWaits)}");
            Assert.That(zeroWaits, Has.Count.EqualTo(2));
            Assert.That(zeroWaits[1], Is.Not.Null.And.LessThanOrEqualTo(1L), "ZeRO-1: " + string.Join(", ", zeroWaits));
        }

        using var launch = new MpiLaunch(emu, 2, TrainArgs("parallel", 2, options));
        Assert.That(launch.WaitForExit(TimeSpan.FromSeconds(600)), Is.EqualTo(0), launch.Output);

        List<long?> waits = StepValues("parallel", "host_waits", e => e.GetInt64());
        TestContext.Out.WriteLine($"host waits per step: {string.Join(", ", waits)}");
        Assert.That(waits, Has.Count.EqualTo(2));
        // The first step also builds the activation arena and the AdamW tables.
        Assert.That(waits[1], Is.Not.Null.And.LessThanOrEqualTo(1L), string.Join(", ", waits));
        AssertSameWeights(Weights(_files.PathOf("reference/step-2")), Weights(_files.PathOf("parallel/step-2")),
            $"{precision} on emu: 2 ranks vs the reference");
        Assert.That(Losses("parallel"), Is.EqualTo(Losses("reference")).Within(precision == "f32" ? 1e-5 : 1e-6));
    }

    // The data-parallel step recorded into a device graph: on emu its collectives are queued on the stream and recorded
    // with the rest of the step, so under mpirun -np 2 --cuda-graphs on replays the steps and writes the checkpoint of
    // eager steps byte for byte, plain and ZeRO-1, with one host wait per replayed step.
    [TestCase("plain")]
    [TestCase("zero1")]
    [BackendNeutral]  // WORLDPM_BACKEND=emu below: the same run in either pass
    public void OnEmuTwoRanksRecordTheStepAndWriteTheCheckpointOfEagerSteps(string mode)
    {
        _files.WritePairs("pairs.jsonl", 32);
        _files.WriteTinyConfig();
        var emu = new Dictionary<string, string> { ["WORLDPM_BACKEND"] = "emu" };
        string[] options = [.. Optimizer, "--no-packing", .. mode == "zero1" ? new[] { "--zero1" } : []];
        using (var eager = new MpiLaunch(emu, 2, TrainArgs("eager", 4, [.. options, "--cuda-graphs", "off"])))
            Assert.That(eager.WaitForExit(TimeSpan.FromSeconds(600)), Is.EqualTo(0), eager.Output);
        using var recorded = new MpiLaunch(emu, 2, TrainArgs("recorded", 4, [.. options, "--cuda-graphs", "on"]));
        Assert.That(recorded.WaitForExit(TimeSpan.FromSeconds(600)), Is.EqualTo(0), recorded.Output);

        Assert.That(recorded.Output, Does.Match(@"cuda graphs: [1-9]\d* of 4 training steps replayed"));
        string[] files = [.. Directory.GetFiles(_files.PathOf("eager/step-4")).Select(Path.GetFileName).Order()!];
        Assert.That(Directory.GetFiles(_files.PathOf("recorded/step-4")).Select(Path.GetFileName).Order(), Is.EqualTo(files));
        Assert.That(files, Does.Contain("model.safetensors"));
        foreach (string file in files)
            Assert.That(File.ReadAllBytes(_files.PathOf("recorded/step-4/" + file)),
                Is.EqualTo(File.ReadAllBytes(_files.PathOf("eager/step-4/" + file))), file);
        List<long?> waits = StepValues("recorded", "host_waits", e => e.GetInt64());
        TestContext.Out.WriteLine($"{mode}, recorded: host waits per step: {string.Join(", ", waits)}");
        Assert.That(waits[^1], Is.Not.Null.And.LessThanOrEqualTo(1L), string.Join(", ", waits));
    }

    private List<T?> StepValues<T>(string run, string key, Func<JsonElement, T> value) where T : struct =>
        [.. File.ReadLines(_files.PathOf(run + ".jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "step")
            .Select(e => e.GetProperty(key) is { ValueKind: not JsonValueKind.Null } v ? value(v) : (T?)null)];

    [Test]
    public void TwoRanksWithZeroOneTrainTheWeightsOfOneProcess()
    {
        _files.WritePairs("pairs.jsonl", 48);
        _files.WriteTinyConfig(layers: 2);
        TrainInOneProcess(TrainArgs("single", 3, Optimizer));

        using var launch = new MpiLaunch(2, TrainArgs("zero1", 3, [.. Optimizer, "--zero1"]));
        Assert.That(launch.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), launch.Output);
        Assert.That(launch.Output, Does.Contain("ZeRO-1 (AdamW moments"));

        // Same bound as plain data parallelism: only the fp32 summation order differs from one process.
        AssertSameWeights(Weights(_files.PathOf("single/step-3")), Weights(_files.PathOf("zero1/step-3")), "ZeRO-1 vs one process");
        Assert.That(Losses("zero1"), Is.EqualTo(Losses("single")).Within(1e-5));
        List<double> norms(string run) => [.. File.ReadLines(_files.PathOf(run + ".jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "step").Select(e => e.GetProperty("grad_norm").GetDouble())];
        Assert.That(norms("zero1"), Is.EqualTo(norms("single")).Within(1e-4).Percent, "the norm sums every rank's block once");
    }

    [Test]
    public void ZeroOneInBf16RoundsTheGatheredMastersIntoTheWorkingWeights()
    {
        _files.WritePairs("pairs.jsonl", 48);
        _files.WriteTinyConfig(layers: 2);
        // Without ZeRO-1 the AdamW pass writes the bf16 working copy; with it each rank updates fp32 masters only and
        // the copy is rounded after the gather. Stale working weights would change steps 2 and 3's losses.
        using (var plain = new MpiLaunch(2, TrainArgs("plain", 3, [.. Optimizer, "--precision", "bf16"])))
            Assert.That(plain.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), plain.Output);
        using (var zero1 = new MpiLaunch(2, TrainArgs("zero1", 3, [.. Optimizer, "--precision", "bf16", "--zero1"])))
            Assert.That(zero1.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), zero1.Output);
        AssertSameWeights(Weights(_files.PathOf("plain/step-3")), Weights(_files.PathOf("zero1/step-3")), "bf16: ZeRO-1 vs plain");
        Assert.That(Losses("zero1"), Is.EqualTo(Losses("plain")).Within(1e-6));
    }

    [Test]
    public void AZeroOneCheckpointHoldsTheWholeOptimizerStateAndResumesInOneProcess()
    {
        _files.WritePairs("pairs.jsonl", 48);
        _files.WriteTinyConfig(layers: 2);
        TrainInOneProcess(TrainArgs("straight", 4, Optimizer));

        using (var launch = new MpiLaunch(2, TrainArgs("split", 2, [.. Optimizer, "--zero1"])))
            Assert.That(launch.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), launch.Output);
        // Steps 3 and 4 in one process read the moments both ranks gathered: wrong or missing halves would move
        // the weights differently from the uninterrupted run.
        CliResult resumed = WorldpmProcess.Run(new Dictionary<string, string> { ["WORLDPM_BACKEND"] = "cpu" },
            TrainArgs("split", 4, [.. Optimizer, "--resume"]));
        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString);
        Assert.That(resumed.Output + resumed.Error, Does.Contain("resumed at step 2, trained 2 more steps; the checkpoint was written by 2 ranks and this run has 1"));
        AssertSameWeights(Weights(_files.PathOf("straight/step-4")), Weights(_files.PathOf("split/step-4")),
            "ZeRO-1 on 2 ranks for 2 steps, then 2 in one process, vs 4 in one process");
    }

    [Test]
    public void AOneProcessCheckpointResumesIntoZeroOneOnTwoRanks()
    {
        _files.WritePairs("pairs.jsonl", 48);
        _files.WriteTinyConfig(layers: 2);
        TrainInOneProcess(TrainArgs("straight", 4, Optimizer));
        TrainInOneProcess(TrainArgs("joined", 2, Optimizer));

        // Each rank takes its share of the whole moments out of the file: a share from the wrong place, or none,
        // would move the weights differently from the uninterrupted run.
        using (var launch = new MpiLaunch(2, TrainArgs("joined", 4, [.. Optimizer, "--zero1", "--resume"])))
            Assert.That(launch.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), launch.Output);
        AssertSameWeights(Weights(_files.PathOf("straight/step-4")), Weights(_files.PathOf("joined/step-4")),
            "2 steps in one process, then 2 with ZeRO-1 on 2 ranks, vs 4 in one process");
    }

    [Test]
    public void AGlobalBatchThatDoesNotSplitEvenlyIsAOneLineError()
    {
        _files.WritePairs("pairs.jsonl", 16);
        _files.WriteTinyConfig();
        using var launch = new MpiLaunch(2, TrainArgs("odd", 2, batch: 3));
        Assert.That(launch.WaitForExit(TimeSpan.FromSeconds(120)), Is.Not.EqualTo(0), launch.Output);
        Assert.That(launch.Output, Does.Contain("pairs per micro-batch (3) must be a multiple of the rank count (2)"));
    }

    [Test]
    public void KillingOneRankEndsTheLaunchWithinAMinuteNamingIt()
    {
        _files.WritePairs("pairs.jsonl", 48);
        _files.WriteTinyConfig();
        using var launch = new MpiLaunch(2, TrainArgs("killed", 1_000_000, "--checkpoint-every", "2", "--log-every", "1"));
        Assert.That(launch.WaitForOutput("step      5", TimeSpan.FromSeconds(60)), Is.True, launch.Output);
        MpiLaunch.Signal(launch.PidOfRank(1), "KILL");
        var clock = Stopwatch.StartNew();
        int? exit = launch.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.That(exit, Is.Not.Null, $"the launch still ran 60 s after rank 1 died\n{launch.Output}");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(launch.Output, Does.Contain("rank 1"), "the message names the rank that died");
        TestContext.Out.WriteLine($"launch ended {clock.Elapsed.TotalSeconds:F1} s after rank 1 was killed");
        string latest = new CheckpointStore(_files.PathOf("killed")).LatestDirectory()!;
        Assert.That(Weights(latest), Has.All.Matches<float>(float.IsFinite), $"the last good checkpoint ({latest}) loads");
    }

    [Test]
    public void ARankStoppedBeforeMpiStartsEndsTheLaunchAfterTheTimeoutNamingIt()
    {
        _files.WritePairs("pairs.jsonl", 48);
        _files.WriteTinyConfig();
        string host = Dns.GetHostName();  // gethostname, as the native library reads it
        var stopRank1 = new Dictionary<string, string> { ["WORLDPM_TEST_STOP_RANK_BEFORE_MPI_START"] = "1" };
        using var launch = new MpiLaunch(stopRank1, 2, TrainArgs("early", 1_000_000, "--comm-timeout", "3"));
        int? rank1 = null;
        try
        {
            int? exit = launch.WaitForExit(TimeSpan.FromSeconds(90));
            Assert.That(exit, Is.Not.Null, $"the launch still ran 90 s after it started\n{launch.Output}");
            Assert.That(exit, Is.Not.EqualTo(0));
            Assert.That(launch.Output, Does.Contain($"worldpm: wpm_comm_create: rank 0 (host {host})"), launch.Output);
            Assert.That(launch.Output, Does.Contain($"did not complete within 3 s: rank 1 (host {host}) did not arrive"),
                launch.Output);
        }
        finally
        {
            try { rank1 = launch.PidOfRank(1); } catch (InvalidOperationException) { }
            if (rank1 is { } pid) MpiLaunch.Signal(pid, "KILL");
        }
        Assert.That(rank1, Is.Null, "mpirun left rank 1 behind");
    }

    [TestCase(1)]
    [TestCase(2)]
    public void RanksWriteNoTerminalEscapeCodesEvenWhenTermNamesATerminal(int ranks)
    {
        // mpirun gives each rank a pseudo-terminal for standard output, so a rank sees a terminal whatever mpirun's
        // own output is; xterm's terminfo has a keypad-transmit string, which .NET's console would write there.
        // A launch of one rank too: its world has one rank, but its output goes through mpirun all the same.
        using var launch = new MpiLaunch(new Dictionary<string, string> { ["TERM"] = "xterm" }, ranks, "info");
        Assert.That(launch.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0), launch.Output);
        Assert.That(launch.Output.Split("collectives   (data parallel").Length - 1, Is.EqualTo(ranks), $"every rank reports\n{launch.Output}");
        // By character (ordinal): a culture-aware string search ignores control characters and finds ESC anywhere.
        Assert.That(launch.Output.IndexOf('\u001b'), Is.EqualTo(-1), launch.Output.Replace("\u001b", "<ESC>"));
    }

    // On emu in the deferred queue mode the collectives run at the step's read-back, so the silent rank is found
    // there: the read-back fails with the collective's message and the rank exits the same way.
    [TestCase("cpu")]
    [TestCase("emu", Category = "BackendNeutral")]
    public void AStoppedRankMakesTheOtherExitAfterTheTimeoutNamingIt(string backend)
    {
        _files.WritePairs("pairs.jsonl", 48);
        _files.WriteTinyConfig();
        var environment = new Dictionary<string, string> { ["WORLDPM_BACKEND"] = backend };
        if (backend == "emu") environment["WORLDPM_EMU_QUEUE"] = "deferred";
        using var launch = new MpiLaunch(environment, 2,
            TrainArgs("stopped", 1_000_000, "--comm-timeout", "2", "--log-every", "1"));
        Assert.That(launch.WaitForOutput(backend == "cpu" ? "step      5" : "step      2", TimeSpan.FromSeconds(120)), Is.True, launch.Output);
        int rank1 = launch.PidOfRank(1);
        MpiLaunch.Signal(rank1, "STOP");
        try
        {
            var clock = Stopwatch.StartNew();
            int? exit = launch.WaitForExit(TimeSpan.FromSeconds(30));
            Assert.That(exit, Is.Not.Null, $"the launch still ran 30 s after rank 1 stopped\n{launch.Output}");
            Assert.That(exit, Is.Not.EqualTo(0));
            Assert.That(launch.Output, Does.Contain("did not complete within 2 s: rank 1 did not answer"), launch.Output);
            if (backend == "emu") Assert.That(launch.Output, Does.Contain("queued on the stream by wpm_"), launch.Output);
            Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(2 + 5 + 10), "timeout + probe window + teardown");
        }
        finally
        {
            MpiLaunch.Signal(rank1, "KILL");
        }
    }
}
