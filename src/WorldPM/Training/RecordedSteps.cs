using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// A <see cref="Trainer"/>'s optimizer steps recorded into device graphs (<see cref="RewardModel.CudaGraphs"/>): the
/// device work of a whole step (every micro-batch's forward and backward with their gradient accumulation and metrics,
/// the inf/NaN check and norm, AdamW) recorded once per step shape and replayed while the shape repeats. A step's shape
/// is every micro-batch's <see cref="StagedShape"/> and loss scale, the step's loss scale (AdamW's gradient factor is
/// 1 / scale; all of them baked into the recording), and the activations it runs in. The first step of a shape runs eagerly (it makes what the step allocates once: kept workspaces and
/// argument tables, the device error word), the second is recorded and launched, later ones are launched.
/// <para>
/// What changes from step to step goes into device buffers by queued uploads before the launch, never into the
/// recording: the micro-batches into their <see cref="StagedPairs"/>, the learning rate and AdamW step count into
/// <see cref="AdamWStepValues"/>, the pair and token counts into the step's metrics. The one read-back of the step's
/// metrics comes after the launch. A few shapes are kept (<see cref="Capacity"/>), the least recently used dropped
/// with its graph and staging buffers. A packed micro-batch is recorded rounded up to its length bucket
/// (<see cref="LengthBuckets"/>), the first eager step of a shape included, so that micro-batches whose token counts
/// and longest sequences differ a little share one recording; eager steps (no recording) run their real tokens only.
/// </para>
/// <para>
/// fp16: the dynamic loss scale changes between steps only (<see cref="LossScaler"/>: halved after an overflow, doubled
/// after <see cref="LossScaler.GrowthInterval"/> clean steps), so a new scale is a new key: one eager step, then
/// recorded. From the default 65536 a run halves a few times in its first steps if its gradients overflow there (each
/// a skipped step and a key not used again, which the least-recently-used order drops); after that the scale changes
/// at most twice per growth interval (a growth, and the overflow that may undo it), so with a growth interval of
/// thousands of steps almost every step replays, and the four kept shapes hold the scales in use.
/// </para>
/// </summary>
internal sealed class RecordedSteps : IDisposable
{
    /// <summary>Step shapes kept at once. Padded micro-batches take their longest pair's length and packed ones their
    /// length bucket, so a run replays the shapes that come back while they are kept; bounded, since each keeps a graph
    /// and its staging buffers.</summary>
    public const int Capacity = 4;

    private readonly WorldPMContext _context;
    private readonly bool _required;
    private readonly List<RecordedStep> _steps = [];  // least recently used first

    /// <param name="required">On: a step that cannot be recorded throws (naming the call that stopped the capture);
    /// otherwise (Auto) that step shape runs eagerly from then on.</param>
    public RecordedSteps(WorldPMContext context, bool required)
    {
        _context = context;
        _required = required;
    }

    /// <summary>Steps run as a replay so far.</summary>
    public long Replays { get; private set; }

    /// <summary>Step shapes whose capture failed (Auto) and that run eagerly.</summary>
    public int Unrecordable => _steps.Count(s => !s.Capturable);

    /// <summary>
    /// Stages <paramref name="microBatches"/> (queued uploads) and runs the step's device work: eagerly the first
    /// time, recorded and launched the second, launched after. <paramref name="deviceWork"/> queues the step over the
    /// staged micro-batches; it must neither upload, read back nor allocate after the first time.
    /// </summary>
    /// <param name="lossScale">The step's loss scale, which <paramref name="deviceWork"/> bakes in as AdamW's 1 / scale
    /// (the micro-batches' <paramref name="lossScales"/> come from it too).</param>
    public void Run(RewardModel model, IReadOnlyList<PairBatch> microBatches, float lossScale,
        IReadOnlyList<float> lossScales, Action<IReadOnlyList<StagedPairs>> deviceWork)
    {
        PairBatch[] recorded = [.. microBatches.Select(b => Bucketed(model.Config, b))];
        StagedShape[] shapes = [.. recorded.Select(b => StagedShape.Of(model.Config, b))];
        object activations = model.ReserveActivations(shapes.Select(s => s.Shape));
        RecordedStep step = Find(shapes, lossScale, lossScales, activations);
        for (int m = 0; m < recorded.Length; m++) step.Staged[m].Write(model.Config, recorded[m]);
        if (!step.RanOnce)
        {
            deviceWork(step.Staged);
            step.RanOnce = true;
            return;
        }
        if (step.Graph is null && step.Capturable)
        {
            try
            {
                step.Graph = DeviceGraph.Capture(_context, () => deviceWork(step.Staged));
            }
            catch (WorldPMArgumentException) when (!_required)
            {
                step.Capturable = false;  // the aborted recording ran nothing: the step runs below
            }
        }
        if (step.Graph is null)
        {
            deviceWork(step.Staged);
            return;
        }
        step.Graph.Launch();
        Replays++;
    }

    /// <summary>A packed micro-batch rounded up to its length bucket (<see cref="LengthBuckets"/>: its pairs, weights
    /// and margins unchanged, filler after them), so that batches of nearby lengths share a recording; a padded one as
    /// it is.</summary>
    private static PairBatch Bucketed(ModelConfig config, PairBatch batch) =>
        batch.Sequences.Layout == SequenceLayout.Packed
            ? new PairBatch(LengthBuckets.Pad(config, batch.Sequences), batch.Weights, batch.Margins)
            : batch;

    private RecordedStep Find(StagedShape[] shapes, float lossScale, IReadOnlyList<float> lossScales, object activations)
    {
        int at = _steps.FindIndex(s => s.Matches(shapes, lossScale, lossScales, activations));
        RecordedStep step;
        if (at >= 0)
        {
            step = _steps[at];
            _steps.RemoveAt(at);
        }
        else
        {
            if (_steps.Count == Capacity)
            {
                _steps[0].Dispose();
                _steps.RemoveAt(0);
            }
            step = new RecordedStep(shapes, lossScale, [.. lossScales], activations,
                [.. shapes.Select(s => new StagedPairs(_context, s))]);
        }
        _steps.Add(step);
        return step;
    }

    public void Dispose()
    {
        foreach (RecordedStep step in _steps) step.Dispose();
        _steps.Clear();
    }

    /// <summary>One step shape: its staging buffers and, once recorded, its graph.</summary>
    private sealed class RecordedStep(StagedShape[] shapes, float lossScale, float[] lossScales, object activations,
        IReadOnlyList<StagedPairs> staged) : IDisposable
    {
        public IReadOnlyList<StagedPairs> Staged { get; } = staged;
        public bool RanOnce { get; set; }
        public DeviceGraph? Graph { get; set; }
        public bool Capturable { get; set; } = true;

        public bool Matches(StagedShape[] otherShapes, float otherScale, IReadOnlyList<float> otherScales,
            object otherActivations) =>
            ReferenceEquals(activations, otherActivations) && shapes.AsSpan().SequenceEqual(otherShapes) &&
            lossScale == otherScale && lossScales.SequenceEqual(otherScales);

        public void Dispose()
        {
            Graph?.Dispose();
            foreach (StagedPairs s in Staged) s.Dispose();
        }
    }
}
