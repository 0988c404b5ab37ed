using System.Diagnostics;
using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// The training loop of one process: for each optimizer step, forward and backward over the
/// micro-batches (gradients accumulate), clip by the global norm, AdamW step, report metrics.
/// The model owns the fp32 weights and gradients; the trainer owns the AdamW moments.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly WorldPMContext _context;
    private readonly RewardModel _model;
    private readonly TrainingOptions _options;
    private readonly LearningRateSchedule _schedule;
    private readonly List<AdamWTensor> _optimizerState;
    private readonly DeviceBuffer<float> _normOutput;

    /// <summary>Optimizer steps taken.</summary>
    public long Step { get; private set; }

    public LearningRateSchedule Schedule => _schedule;

    public Trainer(WorldPMContext context, RewardModel model, TrainingOptions options, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = options;
        long warmup = (long)Math.Round(options.WarmupFraction * totalSteps);
        _schedule = new LearningRateSchedule(options.LearningRate, warmup, totalSteps, options.Decay);
        _optimizerState = model.Parameters.Select(p =>
        {
            DeviceBuffer<float> m = context.Allocate<float>(p.Value.Count), v = context.Allocate<float>(p.Value.Count);
            m.Fill(0);
            v.Fill(0);
            return new AdamWTensor(p.Value, p.Grad, m, v) { Decay = p.Decay };
        }).ToList();
        _normOutput = context.Allocate<float>(1);
    }

    /// <summary>One optimizer step over <paramref name="microBatches"/> (their gradients are averaged).</summary>
    public StepMetrics TrainStep(IReadOnlyList<PairBatch> microBatches)
    {
        ArgumentNullException.ThrowIfNull(microBatches);
        if (microBatches.Count == 0) throw new ArgumentException("a step needs at least one micro-batch", nameof(microBatches));
        var clock = Stopwatch.StartNew();

        _model.ZeroGrad();
        double loss = 0, correct = 0, margin = 0;
        long pairs = 0, tokens = 0;
        foreach (PairBatch batch in microBatches)
        {
            PairStepResult result = _model.ForwardBackward(batch.Tokens, batch.Lengths, batch.Pairs, batch.SeqLen,
                lossScale: 1f / microBatches.Count, weights: batch.Weights);
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

        // Single process: the gradients are already global (the distributed issue adds the all-reduce here).
        double gradNorm = GlobalGradNorm();
        double clip = _options.MaxGradNorm > 0 && gradNorm > _options.MaxGradNorm ? _options.MaxGradNorm / (gradNorm + 1e-6) : 1.0;

        Step++;
        double lr = _schedule.At(Step);
        var settings = new AdamWSettings((float)lr)
        {
            Beta1 = (float)_options.Beta1,
            Beta2 = (float)_options.Beta2,
            Epsilon = (float)_options.Epsilon,
            WeightDecay = (float)_options.WeightDecay,
            GradScale = (float)clip,
        };
        Ops.AdamWStep(_context, _optimizerState, settings, Step);

        return new StepMetrics(Step, loss / pairs, correct / pairs, margin / pairs, gradNorm, lr, tokens,
            clock.Elapsed.TotalSeconds);
    }

    /// <summary>Writes the optimizer moments and the step into <paramref name="state"/> (exact fp32 bits).</summary>
    public void SaveState(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Step = Step;
        foreach ((Parameter p, AdamWTensor t) in _model.Parameters.Zip(_optimizerState))
        {
            state.Add(TensorData.FromFloats(TrainingState.FirstMomentName(p.Name), [.. p.Shape], t.M.ToArray()));
            state.Add(TensorData.FromFloats(TrainingState.SecondMomentName(p.Name), [.. p.Shape], t.V.ToArray()));
        }
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote; every moment must be there with its parameter's size.</summary>
    public void RestoreState(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach ((Parameter p, AdamWTensor t) in _model.Parameters.Zip(_optimizerState))
        {
            t.M.CopyFrom(Moment(state, TrainingState.FirstMomentName(p.Name), p.Count));
            t.V.CopyFrom(Moment(state, TrainingState.SecondMomentName(p.Name), p.Count));
        }
        Step = state.Step;
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

    private double GlobalGradNorm()
    {
        Ops.GlobalNorm(_context, _model.Parameters.Select(p => (DeviceBuffer)p.Grad).ToList(), _normOutput);
        return _normOutput.ToArray()[0];
    }

    public void Dispose()
    {
        foreach (AdamWTensor t in _optimizerState)
        {
            t.M.Dispose();
            t.V.Dispose();
        }
        _normOutput.Dispose();
    }
}
