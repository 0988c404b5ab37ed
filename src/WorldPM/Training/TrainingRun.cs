using WorldPM.Checkpoints;
using WorldPM.Evaluation;
using WorldPM.Losses;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;

namespace WorldPM.Training;

/// <summary>Settings of a <see cref="TrainingRun"/> beyond the optimizer's.</summary>
public sealed record TrainingRunOptions
{
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Optimizer steps in the whole run (a resumed run continues up to this).</summary>
    public long Steps { get; init; } = 1000;

    /// <summary>Where checkpoints go (a <see cref="CheckpointStore"/> run directory); null saves none.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Save a checkpoint every this many steps (0: only at the end, when there is an output directory).</summary>
    public long CheckpointEvery { get; init; }

    /// <summary>Committed checkpoints to keep (0 keeps all).</summary>
    public int KeepLast { get; init; } = 2;

    /// <summary>Bytes of weights per checkpoint file; above it the weights are sharded with an index (see
    /// <see cref="ModelCheckpoint"/>).</summary>
    public long MaxShardBytes { get; init; } = ModelCheckpoint.DefaultMaxShardBytes;

    /// <summary>Continue from the latest committed checkpoint in <see cref="OutputDirectory"/>, if there is one.</summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Resume even when the checkpoint was written for other training data or another batch shape (pairs per
    /// micro-batch, accumulation steps): the saved data position then points into different pairs. Off by default:
    /// such a resume is refused with what differs.
    /// </summary>
    public bool ResumeAnyway { get; init; }

    /// <summary>Evaluate on the evaluation pairs every this many steps (0: only at the end).</summary>
    public long EvalEvery { get; init; }

    /// <summary>The data field the pairs' margins were read from (<see cref="WorldPM.Data.DataLoadOptions.MarginFrom"/>),
    /// or null: recorded with the loss in every checkpoint, so a resume with other margins is refused.</summary>
    public string? MarginFrom { get; init; }
}

/// <summary>What a run ended with.</summary>
public sealed record TrainingRunResult(long Steps, long ResumedFromStep, EvaluationReport? Evaluation, string? LastCheckpoint)
{
    /// <summary>How many ranks wrote the checkpoint this run resumed from (1 for one process; null when it did not resume
    /// or the checkpoint predates the count). Any count resumes: the optimizer state is stored whole.</summary>
    public int? ResumedFromRanks { get; init; }

    /// <summary>Optimizer steps of this run that ran as a replay of a recorded device graph
    /// (<see cref="Trainer.ReplayedSteps"/>).</summary>
    public long ReplayedSteps { get; init; }
}

/// <summary>
/// Trains a model on tokenized pairs in a deterministic order (<see cref="DataOrder"/>), saving checkpoints
/// (weights, config, optimizer moments, step, data position) through a <see cref="CheckpointStore"/> so a
/// killed run resumes exactly where its last committed checkpoint left it: the continued loss curve is
/// bitwise the one an uninterrupted run produces.
/// </summary>
public static class TrainingRun
{
    private const string PositionKey = "data.position";
    private const string SeedKey = "data.seed";
    private const string RanksKey = "parallel.ranks";
    private const string FingerprintKey = "data.fingerprint";
    private const string PairsKey = "data.pairs";
    private const string MicroBatchKey = "batch.pairs_per_micro_batch";
    private const string MicroBatchTokensKey = "batch.max_tokens_per_micro_batch";
    private const string AccumulationKey = "batch.accumulation_steps";
    private const string LossKey = "loss.name";
    private const string LossSettingsKey = "loss.settings";
    private const string MarginFromKey = "loss.margin_from";

    /// <summary>The most pairs read ahead of the step that trains on them.</summary>
    private const long MaxPrefetchedPairs = 1 << 14;

    /// <param name="parallel">Data parallel across the ranks of an mpirun launch, or null for one process. Every rank
    /// calls Run with the same data and options; each trains on its slice of every micro-batch (the global batch is
    /// the one asked for, whatever the rank count), all ranks read the same checkpoint on resume, and only rank 0
    /// writes checkpoints.</param>
    public static TrainingRunResult Run(WorldPMContext context, RewardModel model, IReadOnlyList<TokenizedPair> train,
        IReadOnlyList<TokenizedPair>? evaluation, TrainingRunOptions options,
        Action<StepMetrics>? onStep = null, Action<long, EvaluationReport>? onEval = null, DataParallel? parallel = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (train.Count == 0) throw new ArgumentException("there are no training pairs", nameof(train));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Steps, 1);
        TrainingOptions t = options.Training;
        int ranks = parallel?.Size ?? 1, rank = parallel?.Rank ?? 0;
        if (t.MaxTokensPerMicroBatch is null && t.PairsPerMicroBatch % ranks != 0)
            throw new ArgumentException($"pairs per micro-batch ({t.PairsPerMicroBatch}) must be a multiple of the rank count " +
                $"({ranks}): each rank trains on an equal slice of every micro-batch", nameof(options));

        using var trainer = new Trainer(context, model, t, options.Steps, parallel);
        CheckpointStore? store = options.OutputDirectory is null ? null : new CheckpointStore(options.OutputDirectory, options.KeepLast);
        var shape = new RunShape(TrainingDataFingerprint.Of(train), train.Count, t.PairsPerMicroBatch,
            t.MaxTokensPerMicroBatch ?? 0, t.AccumulationSteps, new RunObjective(t.Loss.Name, t.Loss.Settings, options.MarginFrom ?? ""));
        long position = 0, resumedFrom = 0;
        int? resumedFromRanks = null;
        if (options.Resume && store?.LatestDirectory() is string latest)
        {
            (position, resumedFromRanks) = Restore(latest, model, trainer, t.Seed, options.ResumeAnyway ? null : shape);
            resumedFrom = trainer.Step;
        }
        // Whatever each rank initialized or loaded, they start from rank 0's weights.
        parallel?.BroadcastParameters();
        bool writes = parallel is null || parallel.IsRoot;

        // Two steps' pairs read ahead by another thread, a bounded window whatever the data size.
        using var feed = new PairPrefetcher(train, t.Seed, position,
            (int)Math.Min(2L * t.PairsPerMicroBatch * t.AccumulationSteps, MaxPrefetchedPairs));
        string? lastCheckpoint = null;
        EvaluationReport? report = null;
        while (trainer.Step < options.Steps)
        {
            var microBatches = new List<PairBatch>(t.AccumulationSteps);
            for (int m = 0; m < t.AccumulationSteps; ++m)
            {
                List<TokenizedPair>[] shards = NextShards(feed, ref position, t.MicroBatches, ranks);
                microBatches.Add(ranks == 1 ? new PairBatch(model.Config, shards[0], t.Layout) : Shard(model.Config, shards, rank, t.Layout));
            }
            // Not onStep?.Invoke(trainer.TrainStep(...)): without a listener that would skip the step itself.
            StepMetrics metrics = trainer.TrainStep(microBatches);
            onStep?.Invoke(metrics);

            bool last = trainer.Step == options.Steps;
            if (evaluation is { Count: > 0 } && (last || (options.EvalEvery > 0 && trainer.Step % options.EvalEvery == 0)))
            {
                // The native Bradley-Terry keeps the float64 loss column; another loss reports itself.
                var sizing = new BatchSizing(16, t.MaxTokensPerMicroBatch, t.Layout);
                report = PreferenceLosses.RunsNatively(t.Loss)
                    ? Evaluator.Evaluate(model, evaluation, sizing)
                    : Evaluator.Evaluate(model, evaluation, sizing, loss: t.Loss, accelerator: trainer.LossAccelerator);
                onEval?.Invoke(trainer.Step, report);
            }
            if (store is not null && (last || (options.CheckpointEvery > 0 && trainer.Step % options.CheckpointEvery == 0))
                && (writes || trainer.SavesStateCollectively))
            {
                TrainingState state = CaptureState(trainer, position, t.Seed, ranks, shape);
                if (writes) lastCheckpoint = Save(store, model, state, trainer.Step, options.MaxShardBytes);
                else TrainingStateFile.Drain(state);
            }
        }
        return new TrainingRunResult(trainer.Step, resumedFrom, report, lastCheckpoint)
        {
            ResumedFromRanks = resumedFromRanks,
            ReplayedSteps = trainer.ReplayedSteps,
        };
    }

    /// <summary>
    /// The next global micro-batch from <paramref name="position"/> in the data order, one shard per rank, and the
    /// position after it. By pair count: that many pairs, cut into equal slices. By token budget: each rank's shard is
    /// as many consecutive pairs as fit the budget, rank 0's first (every rank computes them all, the same way).
    /// </summary>
    private static List<TokenizedPair>[] NextShards(PairPrefetcher feed, ref long position, BatchSizing sizing, int ranks)
    {
        var shards = new List<TokenizedPair>[ranks];
        if (sizing.MaxTokensPerBatch is null)
        {
            int per = sizing.ItemsPerBatch / ranks;
            for (int r = 0; r < ranks; r++)
            {
                shards[r] = new List<TokenizedPair>(per);
                for (int i = 0; i < per; i++, position++) shards[r].Add(feed.Next());
            }
            return shards;
        }
        for (int r = 0; r < ranks; r++)
        {
            long from = position;
            int count = sizing.Next(0, int.MaxValue, i => [feed.Peek(i).Chosen.Length, feed.Peek(i).Rejected.Length],
                i => $"training pair {feed.Order[from + i] + 1}");
            shards[r] = new List<TokenizedPair>(count);
            for (int i = 0; i < count; i++, position++) shards[r].Add(feed.Next());
        }
        return shards;
    }

    /// <summary>This rank's shard of a global micro-batch, its gradient scaled by its share of the pair weight.</summary>
    private static PairBatch Shard(ModelConfig config, List<TokenizedPair>[] shards, int rank, SequenceLayout layout)
    {
        List<TokenizedPair> mine = shards[rank];
        double total = shards.Sum(shard => shard.Sum(p => (double)p.Weight)), own = mine.Sum(p => (double)p.Weight);
        return new PairBatch(config, mine, layout) { GradientShare = total > 0 ? shards.Length * own / total : 1 };
    }

    /// <summary>The optimizer state, step and data position to checkpoint, its tensors streamed from the device when
    /// written (with ZeRO-1 every rank writes or drains it).</summary>
    private static TrainingState CaptureState(Trainer trainer, long position, int seed, int ranks, RunShape shape)
    {
        var state = new TrainingState();
        trainer.SaveState(state);
        state.Scalars.SetInt64(PositionKey, position);
        state.Scalars.SetInt64(SeedKey, seed);
        state.Scalars.SetInt64(RanksKey, ranks);
        state.Scalars.SetInt64(FingerprintKey, shape.Fingerprint);
        state.Scalars.SetInt64(PairsKey, shape.Pairs);
        state.Scalars.SetInt64(MicroBatchKey, shape.PairsPerMicroBatch);
        state.Scalars.SetInt64(MicroBatchTokensKey, shape.MaxTokensPerMicroBatch);
        state.Scalars.SetInt64(AccumulationKey, shape.AccumulationSteps);
        state.Scalars.SetString(LossKey, shape.Objective.Loss);
        state.Scalars.SetString(LossSettingsKey, shape.Objective.Settings);
        state.Scalars.SetString(MarginFromKey, shape.Objective.MarginFrom);
        return state;
    }

    /// <summary>What a checkpoint's data position is relative to: the training pairs and how steps take them.</summary>
    private sealed record RunShape(long Fingerprint, long Pairs, long PairsPerMicroBatch, long MaxTokensPerMicroBatch,
        long AccumulationSteps,
        RunObjective Objective);

    /// <summary>How <paramref name="state"/> was written for other data or batches than <paramref name="shape"/>
    /// (checkpoints from before these keys were stored are taken as matching), or null.</summary>
    private static string? Differences(TrainingState state, RunShape shape)
    {
        var differences = new List<string>();
        void Compare(string key, long now, string what)
        {
            if (state.Scalars.Contains(key) && state.Scalars.GetInt64(key) is long then && then != now)
                differences.Add($"{what} {then} then, {now} now");
        }
        Compare(PairsKey, shape.Pairs, "training pairs");
        Compare(MicroBatchKey, shape.PairsPerMicroBatch, "pairs per micro-batch");
        Compare(MicroBatchTokensKey, shape.MaxTokensPerMicroBatch, "max tokens per micro-batch (0: none)");
        Compare(AccumulationKey, shape.AccumulationSteps, "accumulation steps");
        if (differences.Count == 0 && state.Scalars.Contains(FingerprintKey) && state.Scalars.GetInt64(FingerprintKey) != shape.Fingerprint)
            differences.Add("the training pairs' content or order differs");
        return differences.Count == 0 ? null : string.Join("; ", differences);
    }

    /// <summary>
    /// The objective the checkpoint in <paramref name="checkpointDirectory"/> was trained with, from the training state
    /// saved beside its weights (only its header is read); null for a checkpoint without one (a model saved on its own,
    /// e.g. an imported Qwen2). Rebuild the loss with <see cref="PreferenceLosses.Recreate"/>.
    /// </summary>
    public static RunObjective? RecordedObjective(string checkpointDirectory)
    {
        string path = Path.Combine(checkpointDirectory, TrainingStateFile.FileName);
        return File.Exists(path) ? ObjectiveOf(TrainingStateFile.ReadHeader(path)) : null;
    }

    /// <summary>The objective <paramref name="state"/> records; a checkpoint from before the loss was recorded was
    /// trained with the native bt and no margins.</summary>
    private static RunObjective ObjectiveOf(TrainingState state)
    {
        string Saved(string key, string before) => state.Scalars.Contains(key) ? state.Scalars.GetString(key) : before;
        return new RunObjective(Saved(LossKey, PreferenceLosses.BradleyTerryName), Saved(LossSettingsKey, ""), Saved(MarginFromKey, ""));
    }

    /// <summary>How <paramref name="then"/> (a checkpoint's objective) differs from <paramref name="now"/>, naming the
    /// option that differs, or null.</summary>
    private static string? ObjectiveDifferences(RunObjective then, RunObjective now)
    {
        var differences = new List<string>();
        void Compare(string saved, string current, string option)
        {
            if (saved != current) differences.Add($"{option} {Shown(saved)} then, {Shown(current)} now");
        }
        Compare(then.Loss, now.Loss, "--loss");
        if (differences.Count == 0) Compare(then.Settings, now.Settings, "--label-smoothing (loss settings)");
        Compare(then.MarginFrom, now.MarginFrom, "--margin-from");
        return differences.Count == 0 ? null : string.Join("; ", differences);

        static string Shown(string value) => value.Length == 0 ? "(none)" : value;
    }

    private static string Save(CheckpointStore store, RewardModel model, TrainingState state, long step, long maxShardBytes) =>
        store.Save(step, directory =>
        {
            RewardModelCheckpoint.Save(model, directory, maxShardBytes);
            CheckpointKillSwitch.KillIfAsked(step);
            TrainingStateFile.Write(Path.Combine(directory, TrainingStateFile.FileName), state);
        });

    /// <param name="shape">What the checkpoint must have been written for; null resumes whatever it was.</param>
    private static (long Position, int? Ranks) Restore(string directory, RewardModel model, Trainer trainer, int seed, RunShape? shape)
    {
        using TrainingState state = TrainingStateFile.Open(Path.Combine(directory, TrainingStateFile.FileName));
        if (shape is not null && Differences(state, shape) is { } differences)
            throw new InvalidDataException($"{directory} was written for other training data or batches ({differences}): its data " +
                "position would point into different pairs; resume with the same data and --batch/--accumulation, or pass " +
                "--resume-anyway to continue regardless");
        if (shape is not null && ObjectiveDifferences(ObjectiveOf(state), shape.Objective) is { } objective)
            throw new InvalidDataException($"{directory} was trained with another objective ({objective}): resume with the " +
                "same --loss, --label-smoothing and --margin-from, or pass --resume-anyway to continue regardless");
        using (ModelCheckpointReader reader = ModelCheckpoint.Open(directory))
            RewardModelCheckpoint.LoadInto(model, reader);
        long savedSeed = state.Scalars.GetInt64(SeedKey);
        if (savedSeed != seed)
            throw new InvalidDataException($"{directory} was written by a run with seed {savedSeed}; this run has seed {seed} " +
                "(its data order would differ): resume with the same seed");
        trainer.RestoreState(state);
        return (state.Scalars.GetInt64(PositionKey), state.Scalars.Contains(RanksKey) ? (int)state.Scalars.GetInt64(RanksKey) : null);
    }
}
