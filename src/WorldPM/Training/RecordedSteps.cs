using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// A <see cref="Trainer"/>'s optimizer steps recorded into device graphs (<see cref="RewardModel.CudaGraphs"/>): the
/// device work of a whole step (every micro-batch's forward and backward with their gradient accumulation and metrics,
/// the inf/NaN check and norm, AdamW) recorded once per step shape and replayed while the shape repeats. A step's shape
/// is every micro-batch's <see cref="StagedShape"/> and loss scale (both baked into the recording), and the activations
/// it runs in. The first step of a shape runs eagerly (it makes what the step allocates once: kept workspaces and
/// argument tables, the device error word), the second is recorded and launched, later ones are launched.
/// <para>
/// What changes from step to step goes into device buffers by queued uploads before the launch, never into the
/// recording: the micro-batches into their <see cref="StagedPairs"/>, the learning rate and AdamW step count into
/// <see cref="AdamWStepValues"/>, the pair and token counts into the step's metrics. The one read-back of the step's
/// metrics comes after the launch. A few shapes are kept (<see cref="Capacity"/>), the least recently used dropped
/// with its graph and staging buffers.
/// </para>
/// </summary>
internal sealed class RecordedSteps : IDisposable
{
    /// <summary>Step shapes kept at once. Padded micro-batches take their longest pair's length, so a run whose lengths
    /// vary replays only the shapes that come back while they are kept; bounded, since each keeps a graph and its
    /// staging buffers.</summary>
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
    public void Run(RewardModel model, IReadOnlyList<PairBatch> microBatches, IReadOnlyList<float> lossScales,
        Action<IReadOnlyList<StagedPairs>> deviceWork)
    {
        StagedShape[] shapes = [.. microBatches.Select(b => StagedShape.Of(model.Config, b))];
        object activations = model.ReserveActivations(shapes.Select(s => s.Shape));
        RecordedStep step = Find(shapes, lossScales, activations);
        for (int m = 0; m < microBatches.Count; m++) step.Staged[m].Write(model.Config, microBatches[m]);
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

    private RecordedStep Find(StagedShape[] shapes, IReadOnlyList<float> lossScales, object activations)
    {
        int at = _steps.FindIndex(s => s.Matches(shapes, lossScales, activations));
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
            step = new RecordedStep(shapes, [.. lossScales], activations,
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
    private sealed class RecordedStep(StagedShape[] shapes, float[] lossScales, object activations,
        IReadOnlyList<StagedPairs> staged) : IDisposable
    {
        public IReadOnlyList<StagedPairs> Staged { get; } = staged;
        public bool RanOnce { get; set; }
        public DeviceGraph? Graph { get; set; }
        public bool Capturable { get; set; } = true;

        public bool Matches(StagedShape[] otherShapes, IReadOnlyList<float> otherScales, object otherActivations) =>
            ReferenceEquals(activations, otherActivations) && shapes.AsSpan().SequenceEqual(otherShapes) &&
            lossScales.SequenceEqual(otherScales);

        public void Dispose()
        {
            Graph?.Dispose();
            foreach (StagedPairs s in Staged) s.Dispose();
        }
    }
}
