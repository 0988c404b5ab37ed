using System.CommandLine;
using Spectre.Console;
using WorldPM.Checkpoints;
using WorldPM.Data;
using WorldPM.Losses;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm train DATA... --out DIR</c>: loads preference data, tokenizes it with the chat template, trains
/// a reward model (new, from --config or the built-in small config, or from an --init checkpoint) with
/// checkpoints in a run directory, optional resume and evaluation, and logs progress and JSONL metrics.
/// </summary>
internal static class TrainCommand
{
    /// <summary>The peak learning rate of a model trained from scratch: the recipe's 3e-6 barely moves a small fresh model.</summary>
    public const double ScratchLearningRate = 1e-3;

    /// <summary>The command; with a <paramref name="terminal"/> it shows a live progress bar there instead of the step lines.</summary>
    public static Command Create(IAnsiConsole? terminal)
    {
        var o = new TrainOptions();
        var command = new Command("train", "Train a reward model on preference data (Bradley-Terry loss on chosen vs rejected).");
        foreach (Argument argument in o.Arguments) command.Arguments.Add(argument);
        foreach (Option option in o.Options) command.Options.Add(option);
        command.SetAction(result => Run(o.Read(result), result.InvocationConfiguration.Output, terminal, BackendSelection.Of(result)));
        return command;
    }

    internal static int Run(TrainArguments a, TextWriter output, IAnsiConsole? terminal, Backend backend)
    {
        // Under mpirun every rank runs this; rank 0 prints and writes, the others stay quiet.
        CommInfo launch = Communicator.Query();
        bool root = launch.Rank == 0;
        TextWriter log = a.Quiet || !root ? TextWriter.Null : output;
        CheckInputs(a);
        // Rank 0 writes the checkpoints; it holds the directory before the (possibly long) data loading starts.
        using RunDirectoryLock? writer = root ? RunDirectoryLock.Acquire(a.Out) : null;
        TrainInputs inputs = TrainInputs.Resolve(a);
        var stores = new List<IDisposable>();
        try
        {
            return Train(a, inputs, stores, launch, log, output, terminal, backend);
        }
        finally
        {
            foreach (IDisposable store in stores) store.Dispose();
        }
    }

    /// <summary>The run once its inputs are resolved: data, model, training, the last report.</summary>
    private static int Train(TrainArguments a, TrainInputs inputs, List<IDisposable> stores, CommInfo launch, TextWriter log, TextWriter output,
        IAnsiConsole? terminal, Backend backend)
    {
        bool root = launch.Rank == 0;
        var (train, evaluation) = LoadPairs(a, inputs, stores, log);
        TrainingRunOptions options = RunOptions(a, inputs, train, launch.Launched ? Math.Max(1, launch.WorldSize) : 1);

        // Ranks on one host share its cores (cpu) or take one GPU each (cuda: the local rank's).
        using var context = WorldPMContext.Create(backend, threads: launch.Launched ? RankThreads(launch) : 0,
            device: launch.LocalRank);
        ModelInputs.RequireGraphs(a.CudaGraphs, context.Backend);
        using Communicator? comm = launch.Launched ? Communicator.Create(context, TimeSpan.FromSeconds(a.CommTimeout)) : null;
        int ranks = comm?.Size ?? 1;
        using RewardModel model = inputs.CreateModel(context, a, log);
        model.CudaGraphs = a.CudaGraphs;
        log.WriteLine($"model: {Describe(inputs.Config)} from {inputs.ConfigSource(a)}; " +
            $"tokenizer {inputs.TokenizerName}, max length {inputs.MaxLength}");
        log.WriteLine(DescribeTraining(options, a, context, inputs.ResumeFrom));
        using DataParallel? parallel = comm is null ? null : new DataParallel(comm, model) { ShardOptimizerState = a.Zero1 };
        if (parallel is not null) log.WriteLine(DescribeParallel(parallel, model, options.Training));

        var progress = new TrainingProgress(log, a.LogEvery, options.Steps,
            a.Metrics is null || !root ? null : new MetricsLog(a.Metrics, inputs.ResumeStep));
        TrainingRunResult result;
        using (progress)
            result = progress.Show(a.Quiet || !root ? null : terminal, inputs.ResumeStep ?? 0,
                () => TrainingRun.Run(context, model, train, evaluation, options, progress.OnStep, progress.OnEval, parallel));

        if (comm is not null) EndLaunch(comm);
        if (root) Report(result, ranks, inputs.TokenizerName, a.Out, log, output);
        return 0;
    }

    /// <summary>The run's settings from the command line: the optimizer's, and the run's length (default one epoch),
    /// checkpoints and evaluation.</summary>
    private static TrainingRunOptions RunOptions(TrainArguments a, TrainInputs inputs, IReadOnlyList<TokenizedPair> train,
        int ranks) => new()
    {
        Training = new TrainingOptions
        {
            PairsPerMicroBatch = a.Batch,
            MaxTokensPerMicroBatch = a.MaxTokensPerBatch,
            Layout = CommonOptions.Layout(a.NoPacking),
            AccumulationSteps = a.Accumulation,
            LearningRate = a.LearningRate ?? (inputs.Init is null ? ScratchLearningRate : new TrainingOptions().LearningRate),
            WeightDecay = a.WeightDecay,
            WarmupFraction = a.Warmup,
            Decay = a.Schedule,
            MaxGradNorm = a.MaxGradNorm,
            Seed = a.Seed,
            RecomputeActivations = a.Recompute,
            Epsilon = a.AdamEpsilon,
            Loss = PreferenceLosses.Create(a.Loss, a.LabelSmoothing),
        },
        MarginFrom = a.MarginFrom,
        Steps = a.Steps ?? OneEpoch(a, train, ranks),
        OutputDirectory = a.Out,
        CheckpointEvery = a.CheckpointEvery,
        KeepLast = a.Keep,
        MaxShardBytes = a.MaxShardBytes,
        Resume = a.Resume,
        ResumeAnyway = a.ResumeAnyway,
        EvalEvery = a.EvalEvery,
    };

    /// <summary>The steps of one epoch: by pair count exactly; with a token budget, the data's token rows over the
    /// budgets of a step (each rank's micro-batches), which the greedy cut fills to a little less, so about one epoch.</summary>
    private static long OneEpoch(TrainArguments a, IReadOnlyList<TokenizedPair> train, int ranks)
    {
        if (a.MaxTokensPerBatch is not int budget)
            return Math.Max(1, (train.Count + a.Batch * a.Accumulation - 1) / (a.Batch * a.Accumulation));
        long rows = a.NoPacking
            ? train.Sum(p => 2L * Math.Max(p.Chosen.Length, p.Rejected.Length))
            : train.Sum(p => (long)p.Chosen.Length + p.Rejected.Length);
        long perStep = (long)budget * a.Accumulation * ranks;
        return Math.Max(1, (rows + perStep - 1) / perStep);
    }

    private static string DescribeTraining(TrainingRunOptions options, TrainArguments a, WorldPMContext context, string? resumeFrom)
    {
        TrainingOptions t = options.Training;
        string microBatch = t.MaxTokensPerMicroBatch is int budget ? $"up to {budget} tokens" : $"{t.PairsPerMicroBatch} pairs";
        return $"training: {options.Steps} steps of {microBatch} x {t.AccumulationSteps} micro-batches " +
            $"({t.Layout.ToString().ToLowerInvariant()}), " +
            $"lr {t.LearningRate:G3} ({t.Decay.ToString().ToLowerInvariant()}, {t.WarmupFraction:P0} warmup), weight decay {t.WeightDecay:G3}, " +
            $"clip {t.MaxGradNorm:G3}, seed {t.Seed}, precision {a.Precision.ToString().ToLowerInvariant()}, loss {t.Loss.Name}" +
            (t.Loss.Settings.Length > 0 ? $" ({t.Loss.Settings})" : "") + (a.MarginFrom is null ? "" : $" with margins from {a.MarginFrom}") +
            (t.RecomputeActivations ? ", activations recomputed per layer" : "") + $"; {BackendNames.Name(context.Backend)} backend, {context.NumThreads} threads" +
            (resumeFrom is null ? "" : $"; resuming from {resumeFrom}");
    }

    /// <summary>The ranks, each rank's share of a micro-batch, and what crosses between ranks per step.</summary>
    private static string DescribeParallel(DataParallel parallel, RewardModel model, TrainingOptions t)
    {
        Communicator comm = parallel.Communicator;
        string share = t.MaxTokensPerMicroBatch is int budget ? $"micro-batches of up to {budget} tokens per rank"
            : $"{t.PairsPerMicroBatch / comm.Size} pairs of each micro-batch per rank";
        return $"data parallel: {comm.Size} ranks, {share}, " +
            (parallel.ShardOptimizerState
                ? $"ZeRO-1 (AdamW moments {8.0 * new ShardLayout(model.ParameterValues.Count, comm.Size, comm.Rank).OwnedCount / 1e6:F2} MB per rank " +
                  $"instead of {8.0 * model.ParameterValues.Count / 1e6:F2} MB; {parallel.GradientBytesPerStep / 1e6:F1} MB of gradients reduce-scattered " +
                  "and the fp32 weights all-gathered per step), "
                : $"{parallel.GradientBytesPerStep / 1e6:F1} MB of gradients all-reduced per step in buckets of {DataParallel.DefaultBucketElements >> 20} Mi elements, ") +
            $"timeout {comm.Timeout.TotalSeconds:G} s ({Communicator.Query().Mpi})";
    }

    /// <summary>A clean end of an mpirun launch: every rank arrives, then MPI shuts down (mpirun counts a rank that
    /// skips it as failed).</summary>
    private static void EndLaunch(Communicator comm)
    {
        comm.Barrier();
        comm.Dispose();
        Communicator.Shutdown();
    }

    /// <summary>Rank 0's last words: the tokenizer copied next to the checkpoints, how a resumed run continued, and the
    /// final checkpoint.</summary>
    private static void Report(TrainingRunResult result, int ranks, string tokenizerName, string runDirectory, TextWriter log, TextWriter output)
    {
        CopyTokenizerFiles(tokenizerName, runDirectory);
        string checkpoint = result.LastCheckpoint ?? new CheckpointStore(runDirectory).LatestDirectory() ?? runDirectory;
        if (result.ResumedFromStep > 0)
            log.WriteLine($"resumed at step {result.ResumedFromStep}, trained {result.Steps - result.ResumedFromStep} more steps" +
                (result.ResumedFromRanks is int written && written != ranks
                    ? $"; the checkpoint was written by {written} rank{(written == 1 ? "" : "s")} and this run has {ranks}: " +
                      "the data order and the optimizer state (stored whole) do not depend on the count"
                    : ""));
        if (result.ReplayedSteps > 0)
            log.WriteLine($"cuda graphs: {result.ReplayedSteps} of {result.Steps - result.ResumedFromStep} training steps " +
                "replayed from a recording");
        output.WriteLine($"checkpoint (step {result.Steps}): {checkpoint}");
    }

    /// <summary>CPU threads of one rank: the host's cores split among its ranks (WORLDPM_NUM_THREADS still wins).</summary>
    private static int RankThreads(CommInfo launch) =>
        Environment.GetEnvironmentVariable("WORLDPM_NUM_THREADS") is { Length: > 0 } ? 0
            : Math.Max(1, Environment.ProcessorCount / Math.Max(1, launch.LocalSize));

    private static void CheckInputs(TrainArguments a)
    {
        if (a.CudaGraphs == CudaGraphs.On &&
            Trainer.WhyUnrecordable(LossOptions.Create(a.Loss, a.LabelSmoothing, a.MarginFrom))
                is string unrecordable)
            throw new UsageException($"--cuda-graphs on: the training step cannot be recorded: {unrecordable} " +
                "(use --cuda-graphs auto, which runs it eagerly, or off)");
        DataInputs.RequireExisting(a.Data, "data file");
        if (a.Eval is not null) DataInputs.RequireExisting([a.Eval], "evaluation data");
        if (a.Eval is not null && a.EvalFraction is not null)
            throw new UsageException("give --eval or --eval-fraction, not both");
        if (a.ResumeAnyway && !a.Resume)
            throw new UsageException("--resume-anyway only changes what --resume accepts; add --resume");
        LossOptions.Create(a.Loss, a.LabelSmoothing, a.MarginFrom);  // for its checks: a bad combination stops before any loading
        if (a.Config is not null && a.Init is not null)
            throw new UsageException("--init brings its own config.json; leave out --config");
        if (File.Exists(a.Out))
            throw new UsageException($"--out '{a.Out}' is a file; it must name a run directory (new, or one to --resume)");
        if (!a.Resume && Directory.Exists(a.Out) && new CheckpointStore(a.Out).LatestStep() is long step)
            throw new UsageException($"output directory '{a.Out}' already holds a training run (latest step-{step}): pass --resume to continue it or choose another --out");
    }

    /// <summary>The training pairs and the evaluation pairs (null without --eval or --eval-fraction), tokenized, with their
    /// summaries logged. Data and --eval are each a token store (<see cref="TokenStoreInputs"/>) or raw data prepared on the
    /// fly into a temporary one under the run directory (<see cref="TemporaryTokenStore"/>); either is read in place by
    /// memory map and added to <paramref name="stores"/> for the caller to close. --eval-fraction splits the pair indices,
    /// never the pairs.</summary>
    private static (IReadOnlyList<TokenizedPair> Train, IReadOnlyList<TokenizedPair>? Evaluation) LoadPairs(TrainArguments a,
        TrainInputs inputs, List<IDisposable> stores, TextWriter log)
    {
        ScoringToken scoringToken = inputs.Config.ScoringToken;
        (TokenStore Store, TemporaryTokenStore? Prepared) Read(IReadOnlyList<string> paths, string what, string? marginFrom)
        {
            if (TokenStoreInputs.StorePath(paths, what) is { } path)
            {
                TokenStore store = TokenStoreInputs.Open(path, inputs.Tokenizer, inputs.TokenizerName, inputs.MaxLength, scoringToken, marginFrom, what, log);
                stores.Add(store);
                return (store, null);
            }
            TemporaryTokenStore prepared = TemporaryTokenStore.Prepare(paths, a.Out, a.Loading, inputs.Tokenizer, inputs.TokenizerName,
                scoringToken, inputs.MaxLength, what, log);
            stores.Add(prepared);
            return (prepared.Store, prepared);
        }
        var (data, prepared) = Read(a.Data, "data", a.MarginFrom);
        var (heldOut, preparedHeldOut) = a.Eval is null ? (null, null) : Read([a.Eval], "evaluation data", null);
        if (prepared is null && data.Count == 0) throw new InvalidDataException($"no training pairs in {a.Data[0]}");

        IReadOnlyList<TokenizedPair> train = data;
        IReadOnlyList<TokenizedPair>? evaluation = heldOut;
        int[]? trainIndices = null, heldOutIndices = null;
        if (a.EvalFraction is { } fraction)
        {
            (trainIndices, heldOutIndices) = HeldOutSplit.Indices(data.Count, fraction, a.Seed);
            (train, evaluation) = (new PairSubset(data, trainIndices), new PairSubset(data, heldOutIndices));
            log.WriteLine($"held out {heldOutIndices.Length} of {data.Count} pairs for evaluation (--eval-fraction {fraction}, seed {a.Seed})");
        }
        if (prepared is not null)
        {
            if (train.Count == 0) throw new InvalidDataException($"no training pairs in {string.Join(", ", a.Data)}");
            if (a.MarginFrom is { } field)
            {
                var (without, first) = prepared.PairsWithoutMargin(trainIndices);
                LossOptions.RequireMargins(field, without, train.Count, first, "training");
            }
            log.WriteLine($"training tokens: {(trainIndices is null ? prepared.Preparation.Statistics : data.Truncation(trainIndices))}");
            if (heldOutIndices is not null) log.WriteLine($"evaluation tokens: {data.Truncation(heldOutIndices)}");
        }
        if (preparedHeldOut is not null)
        {
            if (heldOut!.Count == 0) return (train, null);
            log.WriteLine($"evaluation tokens: {preparedHeldOut.Preparation.Statistics}");
        }
        return (train, evaluation);
    }

    private static string Describe(ModelConfig c) =>
        $"{c.NumHiddenLayers} layers, d {c.HiddenSize}, {c.NumAttentionHeads} heads ({c.NumKeyValueHeads} kv), MLP {c.IntermediateSize}, vocab {c.VocabSize}";

    /// <summary>Puts the tokenizer next to the checkpoints so that eval and score find it (nothing for the byte tokenizer).</summary>
    private static void CopyTokenizerFiles(string tokenizer, string runDirectory)
    {
        if (File.Exists(tokenizer))
            Copy(tokenizer, Path.Combine(runDirectory, "tokenizer.json"));
        else if (Directory.Exists(tokenizer))
            foreach (string name in PairTokenization.TokenizerFileNames.Where(n => File.Exists(Path.Combine(tokenizer, n))))
                Copy(Path.Combine(tokenizer, name), Path.Combine(runDirectory, name));
    }

    private static void Copy(string from, string to)
    {
        if (Path.GetFullPath(from) != Path.GetFullPath(to)) File.Copy(from, to, overwrite: true);
    }
}
