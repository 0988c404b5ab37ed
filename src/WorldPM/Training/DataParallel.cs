using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// Data parallelism across the ranks of an <c>mpirun</c> launch: every rank holds the whole model, trains on its
/// own shard of each micro-batch, and the gradients are averaged across ranks before the optimizer step, so every
/// rank takes the same step and the weights stay identical without further communication.
/// <para>
/// The gradient all-reduce runs in buckets of about <see cref="BucketElements"/> elements, each started as soon as
/// the backward has finished its tensors (the last layers first); <see cref="FinishGradients"/> starts the step's
/// metric sums after them and waits for all of them. Only the last micro-batch of a step starts buckets: the earlier
/// ones only add into the gradients.
/// </para>
/// <para>
/// Where the buckets go depends on the communicator (<see cref="Communicator.ReducesInHostMemory"/>). NCCL (cuda)
/// reduces in device memory on the stream, so each bucket runs beside the backward of the earlier layers and the step
/// reads its metrics back once at its end; so does MPI on cpu, whose buffers are host memory. MPI on emu reduces host
/// copies of device memory: every bucket and the sums are read back in the one wait of <see cref="FinishGradients"/>,
/// reduced, and written back in stream order without another, and this class keeps host copies of the results
/// (<see cref="TryGetReduced"/>), from which the step takes its metrics and logs the gradient norm without reading
/// anything back: one host wait per optimizer step.
/// </para>
/// </summary>
public sealed class DataParallel : IDisposable
{
    private readonly RewardModel _model;
    private readonly List<DeviceBuffer> _inFlight = [];
    private long _bucketEnd;
    // Host copies of the last exchange's results where the communicator reduces in host memory, else null.
    private readonly float[]? _reducedGradients;
    private float[]? _reducedSums;

    /// <summary>Default bucket size: 4 Mi elements (16 MB of fp32), big enough that per-message costs vanish.</summary>
    public const long DefaultBucketElements = 4L << 20;

    public DataParallel(Communicator communicator, RewardModel model, long bucketElements = DefaultBucketElements)
    {
        Communicator = communicator ?? throw new ArgumentNullException(nameof(communicator));
        _model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketElements, 1);
        BucketElements = bucketElements;
        // Only where reading device memory back is a host wait (emu): on cpu the buffers are host memory, the metrics'
        // read-back costs nothing, and a host copy of the whole gradient with a second norm pass would be pure extra work.
        if (communicator.ReducesInHostMemory && communicator.Context.Backend != Backend.Cpu)
            _reducedGradients = new float[checked((int)model.ParameterGradients.Count)];
    }

    public Communicator Communicator { get; }

    public int Rank => Communicator.Rank;

    public int Size => Communicator.Size;

    /// <summary>Rank 0: the one that writes logs, metrics and checkpoints.</summary>
    public bool IsRoot => Communicator.Rank == 0;

    public long BucketElements { get; }

    /// <summary>ZeRO-1: each rank keeps the AdamW moments of only its 1/N of the parameters (<see cref="ShardedAdamW"/>);
    /// the gradients are reduce-scattered after the backward instead of all-reduced in buckets during it.</summary>
    public bool ShardOptimizerState { get; init; }

    /// <summary>Gradient bytes all-reduced per optimizer step (the whole flat gradient buffer, padding included).</summary>
    public long GradientBytesPerStep => _model.ParameterGradients.Count * DTypes.SizeOf(_model.ParameterGradients.DType);

    /// <summary>Copies rank 0's master weights to every rank (and rounds them into the working copies).</summary>
    public void BroadcastParameters()
    {
        Communicator.Broadcast(_model.ParameterValues, root: 0);
        _model.SyncWorkingWeights();
    }

    /// <summary>Before the last micro-batch's backward: nothing is in flight, the next bucket ends at the buffer's end.</summary>
    public void BeginGradients() => _bucketEnd = _model.ParameterGradients.Count;

    /// <summary>The backward's callback: gradients from <paramref name="offset"/> on are final; start a bucket when
    /// enough has gathered (always at offset 0, the last).</summary>
    public void GradientsFinalFrom(long offset)
    {
        if (_bucketEnd - offset < BucketElements && offset > 0) return;
        if (_bucketEnd == offset) return;
        long count = _bucketEnd - offset;
        DeviceBuffer bucket = _model.GradientSlice(offset, count);
        _inFlight.Add(bucket);
        if (_reducedGradients is null) Communicator.StartAllReduce(bucket, ReduceOp.Mean);
        else Communicator.StartAllReduce(bucket, ReduceOp.Mean, _reducedGradients.AsMemory(checked((int)offset), checked((int)count)));
        _bucketEnd = offset;
    }

    /// <summary>After the buckets: adds <paramref name="sums"/> elementwise over ranks, in place on the device (fp32:
    /// exact for counts below 2^24), and waits for it and every bucket: the gradients are the mean over ranks.</summary>
    public void FinishGradients(DeviceBuffer<float> sums)
    {
        ArgumentNullException.ThrowIfNull(sums);
        try
        {
            if (_reducedGradients is null)
            {
                Communicator.StartAllReduce(sums, ReduceOp.Sum);
            }
            else
            {
                if (_reducedSums?.Length != sums.Count) _reducedSums = new float[checked((int)sums.Count)];
                Communicator.StartAllReduce(sums, ReduceOp.Sum, _reducedSums);
            }
            Communicator.Wait();
        }
        finally
        {
            foreach (DeviceBuffer bucket in _inFlight) bucket.Dispose();
            _inFlight.Clear();
        }
    }

    /// <summary>Where the communicator reduces in host memory: the mean gradients (the whole flat buffer) and the
    /// summed metrics of the last <see cref="FinishGradients"/>, as the device holds them; false on NCCL.</summary>
    public bool TryGetReduced(out ReadOnlySpan<float> gradients, out ReadOnlySpan<float> sums)
    {
        gradients = _reducedGradients;
        sums = _reducedSums;
        return _reducedGradients is not null && _reducedSums is not null;
    }

    /// <summary>Adds <paramref name="sums"/> elementwise over ranks, in place on the device (fp32: exact for counts
    /// below 2^24).</summary>
    public void SumOverRanks(DeviceBuffer<float> sums) => Communicator.AllReduce(sums, ReduceOp.Sum);

    public void Dispose()
    {
        foreach (DeviceBuffer bucket in _inFlight) bucket.Dispose();
        _inFlight.Clear();
    }
}
