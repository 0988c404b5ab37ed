using System.Diagnostics;
using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// The training loop of one process: for each optimizer step, forward and backward over the
/// micro-batches (gradients accumulate, multiplied by the loss scale), check them for inf/NaN, clip by the
/// global norm, AdamW step, report metrics.
/// <para>
/// The model owns the fp32 master weights, the working weights and the gradients (both in its
/// <see cref="Precision"/>); the trainer owns the fp32 AdamW moments and the <see cref="LossScaler"/>. The AdamW
/// pass reads the f16/bf16 gradients, updates the fp32 masters and writes the rounded working copy in the same
/// pass; unscaling and clipping are folded into its gradient factor (fp32 math), so fp16 gradients are never
/// unscaled in place, where the small ones would flush to zero.
/// </para>
/// <para>
/// The trainer sets the model's <see cref="RewardModel.RecomputeActivations"/> from its options: a memory-for-compute
/// choice of the training run, not of the model.
/// </para>
/// <para>
/// A step whose gradients hold inf or NaN (in any precision; in fp16 usually a loss-scale overflow) is skipped:
/// weights, moments and the AdamW step count (<see cref="Updates"/>, its bias correction) stay as they were.
/// <see cref="Step"/> and with it the learning-rate schedule still advance, so a run has a fixed length and the
/// schedule is a function of the step number; skips are rare (a few while fp16 finds its scale, then about one
/// per growth interval).
/// </para>
/// <para>
/// Data parallel with <see cref="DataParallel.ShardOptimizerState"/> (ZeRO-1), the moments live in a
/// <see cref="ShardedAdamW"/> instead: each rank updates its share and the weights are gathered after the step.
/// </para>
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly WorldPMContext _context;
    private readonly RewardModel _model;
    private readonly TrainingOptions _options;
    private readonly LearningRateSchedule _schedule;
    private readonly List<AdamWTensor> _optimizerState;
    private readonly DeviceBuffer<float> _normOutput;
    private readonly DeviceBuffer<float> _foundInf;
    private readonly DataParallel? _parallel;
    private readonly ShardedAdamW? _sharded;
    private const string UpdatesKey = "optimizer.updates";

    /// <summary>Optimizer steps taken, skipped ones included: the position in the run and in the schedule.</summary>
    public long Step { get; private set; }

    /// <summary>Steps that updated the weights (the AdamW step count).</summary>
    public long Updates { get; private set; }

    /// <summary>The loss scale and its adaptation (dynamic for an fp16 model, 1 otherwise).</summary>
    public LossScaler Scaler { get; }

    public LearningRateSchedule Schedule => _schedule;

    /// <summary>Whether <see cref="SaveState"/> is a collective every rank must call (ZeRO-1 gathers the moments).</summary>
    public bool SavesStateCollectively => _sharded is not null;

    /// <param name="parallel">Data parallel across ranks (each step's micro-batches are this rank's shards), or null.</param>
    public Trainer(WorldPMContext context, RewardModel model, TrainingOptions options, long totalSteps,
        DataParallel? parallel = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = options;
        _parallel = parallel;
        _model.RecomputeActivations = options.RecomputeActivations;
        long warmup = (long)Math.Round(options.WarmupFraction * totalSteps);
        _schedule = new LearningRateSchedule(options.LearningRate, warmup, totalSteps, options.Decay);
        if (parallel is { ShardOptimizerState: true }) _sharded = new ShardedAdamW(parallel.Communicator, model);
        _optimizerState = _sharded is not null ? [] : model.Parameters.Select(p =>
        {
            DeviceBuffer<float> m = context.Allocate<float>(p.Value.Count), v = context.Allocate<float>(p.Value.Count);
            m.Fill(0);
            v.Fill(0);
            // In fp32 the master is the working copy; otherwise AdamW rewrites the f16/bf16 copy in the same pass.
            DeviceBuffer? working = ReferenceEquals(p.Working, p.Value) ? null : p.Working;
            return new AdamWTensor(p.Value, p.Grad, m, v) { Decay = p.Decay, Working = working };
        }).ToList();
        _normOutput = context.Allocate<float>(1);
        _foundInf = context.Allocate<float>(1);
        Scaler = new LossScaler(model.Precision == Precision.F16, (float)options.InitialLossScale,
            options.LossScaleGrowthInterval);
    }

    /// <summary>One optimizer step over <paramref name="microBatches"/> (their gradients are averaged).</summary>
    public StepMetrics TrainStep(IReadOnlyList<PairBatch> microBatches)
    {
        ArgumentNullException.ThrowIfNull(microBatches);
        if (microBatches.Count == 0) throw new ArgumentException("a step needs at least one micro-batch", nameof(microBatches));
        var clock = Stopwatch.StartNew();

        _model.ZeroGrad();
        float scale = Scaler.Scale;
        double loss = 0, correct = 0, margin = 0;
        long pairs = 0, tokens = 0;
        for (int m = 0; m < microBatches.Count; m++)
        {
            PairBatch batch = microBatches[m];
            // Data parallel: the last micro-batch's backward starts the gradient all-reduce, bucket by bucket.
            bool reduceDuringBackward = _parallel is not null && _sharded is null && m == microBatches.Count - 1;
            if (reduceDuringBackward) _parallel!.BeginGradients();
            PairStepResult result = _model.ForwardBackward(batch,
                lossScale: (float)(scale / microBatches.Count * batch.GradientShare),
                gradientsFinalFrom: reduceDuringBackward ? _parallel!.GradientsFinalFrom : null);
            loss += result.Loss * batch.Pairs;
            for (int i = 0; i < batch.Pairs; ++i)
            {
                double delta = result.ChosenRewards[i] - result.RejectedRewards[i];
                correct += delta > 0 ? 1 : 0;
                margin += delta;
            }
            pairs += batch.Pairs;
            tokens += batch.TokenCount;
        }

        if (_parallel is not null)
        {
            // Every rank now holds the same mean gradient (ZeRO-1: of its block): the clip, the skip decision and the
            // step agree everywhere.
            if (_sharded is not null) _sharded.ReduceGradients();
            else _parallel.FinishGradients();
            Span<double> sums = [loss, correct, margin, pairs, tokens];
            _parallel.SumOverRanks(sums);
            (loss, correct, margin, pairs, tokens) = (sums[0], sums[1], sums[2], (long)sums[3], (long)sums[4]);
        }
        (bool overflow, double gradNorm) = _sharded is null ? (GradientsOverflowed(), GlobalGradNorm()) : ShardedOverflowAndNorm();
        gradNorm /= scale;
        double clip = _options.MaxGradNorm > 0 && gradNorm > _options.MaxGradNorm ? _options.MaxGradNorm / (gradNorm + 1e-6) : 1.0;

        Step++;
        double lr = _schedule.At(Step);
        if (!overflow)
        {
            Updates++;
            var settings = new AdamWSettings((float)lr)
            {
                Beta1 = (float)_options.Beta1,
                Beta2 = (float)_options.Beta2,
                Epsilon = (float)_options.Epsilon,
                WeightDecay = (float)_options.WeightDecay,
                GradScale = (float)(clip / scale),
            };
            Ops.AdamWStep(_context, _sharded?.Tensors ?? _optimizerState, settings, Updates);
            _sharded?.GatherParameters();
        }
        Scaler.Update(overflow);

        return new StepMetrics(Step, loss / pairs, correct / pairs, margin / pairs, gradNorm, lr, tokens,
            clock.Elapsed.TotalSeconds) { LossScale = scale, Skipped = overflow };
    }

    /// <summary>Writes the optimizer moments, the steps and the loss scaler into <paramref name="state"/> (exact fp32
    /// bits). With ZeRO-1 this gathers the moments: a collective that every rank calls.</summary>
    public void SaveState(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Step = Step;
        state.Scalars.SetInt64(UpdatesKey, Updates);
        Scaler.Save(state.Scalars);
        (float[] M, float[] V)? whole = _sharded?.GatherMoments();
        for (int i = 0; i < _model.Parameters.Count; i++)
        {
            Parameter p = _model.Parameters[i];
            float[] m = whole is null ? _optimizerState[i].M.ToArray() : Part(whole.Value.M, p);
            float[] v = whole is null ? _optimizerState[i].V.ToArray() : Part(whole.Value.V, p);
            state.Add(TensorData.FromFloats(TrainingState.FirstMomentName(p.Name), [.. p.Shape], m));
            state.Add(TensorData.FromFloats(TrainingState.SecondMomentName(p.Name), [.. p.Shape], v));
        }

        static float[] Part(float[] whole, Parameter p) => whole.AsSpan(checked((int)p.Offset), checked((int)p.Count)).ToArray();
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote; every moment must be there with its parameter's size.
    /// The moments are stored whole, so a state saved with or without ZeRO-1, by any rank count, restores into
    /// either.</summary>
    public void RestoreState(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        float[]? wholeM = _sharded is null ? null : new float[_model.ParameterValues.Count];
        float[]? wholeV = _sharded is null ? null : new float[_model.ParameterValues.Count];
        for (int i = 0; i < _model.Parameters.Count; i++)
        {
            Parameter p = _model.Parameters[i];
            float[] m = Moment(state, TrainingState.FirstMomentName(p.Name), p.Count);
            float[] v = Moment(state, TrainingState.SecondMomentName(p.Name), p.Count);
            if (_sharded is null)
            {
                _optimizerState[i].M.CopyFrom(m);
                _optimizerState[i].V.CopyFrom(v);
            }
            else
            {
                m.CopyTo(wholeM.AsSpan(checked((int)p.Offset)));
                v.CopyTo(wholeV.AsSpan(checked((int)p.Offset)));
            }
        }
        _sharded?.RestoreMoments(wholeM!, wholeV!);
        Step = state.Step;
        // A state from before skipped steps existed has no count: every step was an update.
        Updates = state.Scalars.Contains(UpdatesKey) ? state.Scalars.GetInt64(UpdatesKey) : state.Step;
        Scaler.Restore(state.Scalars);
    }

    private static float[] Moment(TrainingState state, string name, long count)
    {
        if (!state.Tensors.TryGetValue(name, out TensorData? tensor))
            throw new InvalidDataException($"the training state has no optimizer moment '{name}'");
        float[] values = tensor.ToFloats();
        if (values.Length != count)
            throw new InvalidDataException($"optimizer moment '{name}' has {values.Length} elements; the parameter has {count}");
        return values;
    }

    /// <summary>Whether any gradient is inf or NaN (a check only: scale 1 leaves the values as they are).</summary>
    private bool GradientsOverflowed()
    {
        Ops.ScaleCheckFinite(_context, [_model.ParameterGradients], 1f, _foundInf);
        return _foundInf.ToArray()[0] != 0;
    }

    /// <summary>ZeRO-1: whether any rank's reduced gradients hold inf/NaN, and the norm of all of them (each block
    /// once, the tail that every rank holds counted on rank 0 only).</summary>
    private (bool Overflow, double Norm) ShardedOverflowAndNorm()
    {
        Ops.ScaleCheckFinite(_context, _sharded!.OwnedGradients(withTail: true), 1f, _foundInf);
        Ops.GlobalNorm(_context, _sharded.OwnedGradients(withTail: _parallel!.IsRoot), _normOutput);
        double norm = _normOutput.ToArray()[0];
        Span<double> sums = [_foundInf.ToArray()[0] != 0 ? 1 : 0, norm * norm];
        _parallel.SumOverRanks(sums);
        return (sums[0] != 0, Math.Sqrt(sums[1]));
    }

    private double GlobalGradNorm()
    {
        Ops.GlobalNorm(_context, _model.Parameters.Select(p => (DeviceBuffer)p.Grad).ToList(), _normOutput);
        return _normOutput.ToArray()[0];
    }

    public void Dispose()
    {
        _sharded?.Dispose();
        foreach (AdamWTensor t in _optimizerState)
        {
            t.M.Dispose();
            t.V.Dispose();
        }
        _normOutput.Dispose();
        _foundInf.Dispose();
    }
}
