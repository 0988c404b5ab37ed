using System.Diagnostics;
using WorldPM.Checkpoints;
using WorldPM.Losses;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// The training loop of one process: for each optimizer step, forward and backward over the
/// micro-batches (gradients accumulate, multiplied by the loss scale), check them for inf/NaN, clip by the
/// global norm, AdamW step, report metrics.
/// <para>
/// The model owns the fp32 master weights, the working weights and the gradients (both in its
/// <see cref="Precision"/>); the trainer owns the fp32 AdamW moments (through its gradient sync) and the <see cref="LossScaler"/>. The AdamW
/// pass reads the f16/bf16 gradients, updates the fp32 masters and writes the rounded working copy in the same
/// pass; unscaling and clipping are folded into its gradient factor (fp32 math), so fp16 gradients are never
/// unscaled in place, where the small ones would flush to zero. The AdamW kernel forms that factor from the
/// gradient norm on the device and skips the step on the inf/NaN flag there, so the host sees the norm and the
/// flag only with the step's other metrics, in the step's one read-back.
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
/// The loss is the options' <see cref="TrainingOptions.Loss"/>: the default Bradley-Terry runs on the device as the
/// native fused op; another loss runs on the host side through the trainer's <see cref="LossAccelerator"/> (ILGPU,
/// made on the first step that needs it and released with the trainer).
/// </para>
/// <para>
/// How the gradients reach the AdamW step, and where the moments live, is the one choice of the parallel mode, made
/// at construction (<see cref="IGradientSync"/>): one process, data parallel with a bucketed all-reduce, or ZeRO-1
/// (<see cref="DataParallel.ShardOptimizerState"/>: each rank updates its share and the weights are gathered after
/// the step).
/// </para>
/// <para>
/// With the model's <see cref="RewardModel.CudaGraphs"/> On (or Auto on cuda) the step's device work is recorded into a
/// device graph once per step shape and replayed (<see cref="RecordedSteps"/>); what changes from step to step (the
/// micro-batches, the counts, the learning rate and the AdamW step count) is written into device buffers before the
/// launch, so a replay gives the bits of an eager step. The loss scale is not: it changes only between steps (an fp16
/// overflow or growth) and is part of the recording's key, so each scale an fp16 run uses is recorded once.
/// </para>
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly RewardModel _model;
    private readonly TrainingOptions _options;
    private readonly LearningRateSchedule _schedule;
    private readonly IGradientSync _gradients;
    private readonly WorldPMContext _context;
    private readonly StepMetricsBuffer _metrics;
    private readonly AdamWStepValues _stepValues;
    private readonly RecordedSteps? _recorded;
    private const string UpdatesKey = "optimizer.updates";

    /// <summary>Optimizer steps taken, skipped ones included: the position in the run and in the schedule.</summary>
    public long Step { get; private set; }

    /// <summary>Steps that updated the weights (the AdamW step count).</summary>
    public long Updates { get; private set; }

    /// <summary>The objective this trainer minimizes (<see cref="TrainingOptions.Loss"/>).</summary>
    public IPreferenceLoss Loss => _options.Loss;

    /// <summary>Where <see cref="Loss"/> runs when it is not the native Bradley-Terry; owned by the trainer.</summary>
    public LossAccelerator LossAccelerator { get; } = new();

    /// <summary>The loss scale and its adaptation (dynamic for an fp16 model, 1 otherwise).</summary>
    public LossScaler Scaler { get; }

    public LearningRateSchedule Schedule => _schedule;

    /// <summary>Whether writing the state <see cref="SaveState"/> fills is a collective that every rank must take part
    /// in (ZeRO-1 gathers each piece of the moments from its owner): the ranks that do not write it drain it
    /// (<see cref="TrainingStateFile.Drain"/>).</summary>
    public bool SavesStateCollectively => _gradients.SavesCollectively;

    /// <param name="parallel">Data parallel across ranks (each step's micro-batches are this rank's shards), or null.</param>
    /// <exception cref="NotSupportedException">The model's CudaGraphs is On and the step cannot be recorded
    /// (<see cref="WhyUnrecordable"/>: a host-side loss).</exception>
    public Trainer(WorldPMContext context, RewardModel model, TrainingOptions options, long totalSteps,
        DataParallel? parallel = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        ArgumentNullException.ThrowIfNull(context);
        _model = model ?? throw new ArgumentNullException(nameof(model));
        // Refused before anything is allocated.
        CudaGraphs graphs = model.ResolvedCudaGraphs;
        string? unrecordable = WhyUnrecordable(options.Loss);
        if (graphs == CudaGraphs.On && unrecordable is not null)
            throw new NotSupportedException($"CudaGraphs On: the training step cannot be recorded: {unrecordable}");
        _options = options;
        _model.RecomputeActivations = options.RecomputeActivations;
        long warmup = (long)Math.Round(options.WarmupFraction * totalSteps);
        _schedule = new LearningRateSchedule(options.LearningRate, warmup, totalSteps, options.Decay);
        _context = context;
        _gradients = IGradientSync.For(context, model, parallel);
        _metrics = new StepMetricsBuffer(context);
        _stepValues = new AdamWStepValues(context);
        Scaler = new LossScaler(model.Precision == Precision.F16, (float)options.InitialLossScale,
            options.LossScaleGrowthInterval);
        if (graphs != CudaGraphs.Off && unrecordable is null)
            _recorded = new RecordedSteps(context, required: graphs == CudaGraphs.On);
    }

    /// <summary>Why a step of this configuration cannot be recorded into a device graph (the reason, for a message),
    /// or null when it can: the step must decide nothing on the host between its first launch and its read-back.
    /// Every precision records: fp16's loss scale is decided on the host, but between steps (after the read-back,
    /// <see cref="LossScaler.Update"/>), and a step bakes it in only as its micro-batches' loss scales and AdamW's
    /// 1 / scale, both part of the recording's key (<see cref="RecordedSteps"/>), so a new scale is a new recording
    /// rather than a wrong replay. Data parallelism records too: its collectives are device work on the stream (NCCL's
    /// on cuda, the emulator's queued MPI exchanges on emu), recorded with the step and run again by each replay.</summary>
    public static string? WhyUnrecordable(IPreferenceLoss loss) =>
        !PreferenceLosses.RunsNatively(loss) ? $"the loss '{loss.Name}' runs on the host (only the native Bradley-Terry is recorded)"
        : null;

    /// <summary>Optimizer steps run as a replay of a recorded device graph so far (see
    /// <see cref="RewardModel.CudaGraphs"/>; none where the steps run eagerly).</summary>
    public long ReplayedSteps => _recorded?.Replays ?? 0;

    /// <summary>One optimizer step over <paramref name="microBatches"/> (their gradients are averaged).</summary>
    /// <remarks>From the first launch to the end the host does not wait on the device: each micro-batch's loss and
    /// rewards are added into <see cref="StepMetricsBuffer"/> on the device, the inf/NaN check and the gradient norm
    /// stay there for the AdamW step to skip or clip by, and the step ends with one read-back of all of them (with
    /// the device error word, so a bad id fails the step here). With data parallelism the exchange is device work
    /// queued on the stream too (<see cref="DataParallel"/>), and a collective that failed (a dead or silent rank)
    /// fails that read-back.</remarks>
    public StepMetrics TrainStep(IReadOnlyList<PairBatch> microBatches)
    {
        ArgumentNullException.ThrowIfNull(microBatches);
        if (microBatches.Count == 0) throw new ArgumentException("a step needs at least one micro-batch", nameof(microBatches));
        var clock = Stopwatch.StartNew();
        DeviceCounters? before = _context.DeviceCounters;

        // What the host knows before the step is written into device buffers before any of its work is queued (never
        // by the work itself, which a recording replays): the counts, the learning rate and the AdamW step count.
        float scale = Scaler.Scale;
        _metrics.SetCounts(microBatches.Sum(b => (long)b.Pairs), microBatches.Sum(b => b.TokenCount));
        // Bias correction as the next update; a step the check skips leaves every buffer as it was.
        double lr = _schedule.At(Step + 1);
        var settings = new AdamWSettings((float)lr)
        {
            Beta1 = (float)_options.Beta1,
            Beta2 = (float)_options.Beta2,
            Epsilon = (float)_options.Epsilon,
            WeightDecay = (float)_options.WeightDecay,
            GradScale = (float)(1.0 / scale),
            MaxGradNorm = (float)_options.MaxGradNorm,
        };
        _stepValues.Set(settings.LearningRate, Updates + 1, settings.Beta1, settings.Beta2);
        float[] lossScales = [.. microBatches.Select(b => (float)(scale / microBatches.Count * b.GradientShare))];

        if (_recorded is null)
        {
            RunStep(settings, lossScales, (m, lossScale, gradientsFinalFrom) => _model.ForwardBackwardOnDevice(
                microBatches[m], _options.Loss, LossAccelerator, lossScale, gradientsFinalFrom));
        }
        else
        {
            _recorded.Run(_model, microBatches, scale, lossScales, staged => RunStep(settings, lossScales,
                (m, lossScale, gradientsFinalFrom) => _model.ForwardBackwardOnDevice(staged[m], lossScale, gradientsFinalFrom)));
        }
        StepSums sums = _gradients.ReadMetrics(_metrics);

        Step++;
        if (!sums.Overflow) Updates++;
        Scaler.Update(sums.Overflow);
        return new StepMetrics(Step, sums.Loss / sums.Pairs, sums.Correct / sums.Pairs, sums.Margin / sums.Pairs,
            sums.Norm / scale, lr, sums.Tokens, clock.Elapsed.TotalSeconds)
        {
            LossScale = scale,
            Skipped = sums.Overflow,
            HostWaits = _context.DeviceCounters?.Since(before!).HostWaits,
        };
    }

    /// <summary>The device work of one step over its micro-batches (m: forward and backward of micro-batch m with its
    /// loss scale): gradient accumulation, each micro-batch's metrics, the exchange, the gradient check and AdamW.
    /// Nothing in it waits for the device, and with staged micro-batches nothing uploads or allocates after the first
    /// step of a shape, so <see cref="RecordedSteps"/> can record it.</summary>
    private void RunStep(AdamWSettings settings, float[] lossScales,
        Func<int, float, Action<long>?, PairOutputs> forwardBackward)
    {
        _model.ZeroGrad();
        _metrics.Clear();
        for (int m = 0; m < lossScales.Length; m++)
        {
            Action<long>? gradientsFinalFrom = _gradients.BeginExchange(lastMicroBatch: m == lossScales.Length - 1);
            PairOutputs result = forwardBackward(m, lossScales[m], gradientsFinalFrom);
            Ops.PairMetrics(_context, result.Rewards, result.Loss, result.Pairs, _metrics.PairSums);
        }
        // After the exchange every rank holds the same mean gradient (ZeRO-1: of its block) and the step's sums over
        // ranks: the clip, the skip decision and the step agree everywhere.
        _gradients.FinishExchange(_metrics);
        _gradients.CheckGradients(_metrics);
        _gradients.UpdateWeights(settings, _stepValues, _metrics.GradientCheck);
    }

    /// <summary>Puts the optimizer moments, the steps and the loss scaler into <paramref name="state"/> (exact fp32
    /// bits), and for an f16/bf16 model the fp32 master weights, which its saved weights only round. The tensors are
    /// streamed from the device buffers when the state is written, piece by piece (never whole on the host): write it
    /// before the next step. With ZeRO-1 writing it is a collective (<see cref="SavesStateCollectively"/>).</summary>
    public void SaveState(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Step = Step;
        state.Scalars.SetInt64(UpdatesKey, Updates);
        Scaler.Save(state.Scalars);
        for (int i = 0; i < _model.Parameters.Count; i++)
        {
            Parameter p = _model.Parameters[i];
            (TensorData m, TensorData v) = _gradients.Moments(i, TrainingState.FirstMomentName(p.Name), TrainingState.SecondMomentName(p.Name));
            state.Add(m);
            state.Add(v);
            if (_model.Precision != Precision.F32)
                state.Add(TensorData.FromBuffer(TrainingState.MasterName(p.Name), [.. p.Shape], p.Value));
        }
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote; every moment must be there with its parameter's size.
    /// The moments are stored whole, so a state saved with or without ZeRO-1, by any rank count, restores into
    /// either. Each tensor is copied straight into its device buffer (from the memory map, for a state opened with
    /// <see cref="TrainingStateFile.Open"/>), each rank taking only its share.</summary>
    public void RestoreState(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var moments = _model.Parameters.Select(p => (Moment(state, TrainingState.FirstMomentName(p.Name), p.Count),
            Moment(state, TrainingState.SecondMomentName(p.Name), p.Count))).ToList();
        var masters = Masters(state);
        _gradients.RestoreMoments(moments);
        foreach (var (p, master) in masters)
            master.CopyTo(p.Value);
        if (masters.Count > 0) _model.SyncWorkingWeights();
        Step = state.Step;
        // A state from before skipped steps existed has no count: every step was an update.
        Updates = state.Scalars.Contains(UpdatesKey) ? state.Scalars.GetInt64(UpdatesKey) : state.Step;
        Scaler.Restore(state.Scalars);
    }

    /// <summary>The fp32 master weights a state of an f16/bf16 run holds, each checked, to replace the ones loaded from
    /// its rounded weights; none in a state without them (an fp32 run's, whose weights are the masters). Checked before
    /// anything is restored, like the moments, so a bad state leaves the trainer as it was.</summary>
    private List<(Parameter Parameter, TensorData Master)> Masters(TrainingState state)
    {
        var masters = new List<(Parameter Parameter, TensorData Master)>();
        foreach (Parameter p in _model.Parameters)
        {
            string name = TrainingState.MasterName(p.Name);
            if (!state.Tensors.TryGetValue(name, out TensorData? master)) continue;
            if (master.DType != TensorDType.F32 || master.ElementCount != p.Count)
                throw new InvalidDataException($"master weights '{name}' are {master}; the parameter has {p.Count} fp32 elements");
            masters.Add((p, master));
        }
        return masters;
    }

    private static TensorData Moment(TrainingState state, string name, long count)
    {
        if (!state.Tensors.TryGetValue(name, out TensorData? tensor))
            throw new InvalidDataException($"the training state has no optimizer moment '{name}'");
        if (tensor.ElementCount != count)
            throw new InvalidDataException($"optimizer moment '{name}' has {tensor.ElementCount} elements; the parameter has {count}");
        if (!tensor.DType.IsConvertibleFloat())
            throw new InvalidDataException($"optimizer moment '{name}' is {tensor}; moments are F32, F16, BF16 or F64");
        return tensor;
    }

    public void Dispose()
    {
        _recorded?.Dispose();
        _gradients.Dispose();
        _metrics.Dispose();
        _stepValues.Dispose();
        LossAccelerator.Dispose();
    }
}
