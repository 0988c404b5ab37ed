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
/// The collectives are device work on the context's stream, ordered after the backward that produced each bucket:
/// NCCL's on cuda, and on emu MPI's, queued on the emulator's stream and run when it runs (the step's one metrics
/// read-back, or a replay of a recorded step). Neither waits for the device, so the step reads its metrics back once
/// at its end, as one process does, and can be recorded into a device graph. On cpu the buffers are host memory and
/// MPI reduces each bucket on the MPI thread beside the backward of the earlier layers.
/// </para>
/// </summary>
public sealed class DataParallel : IDisposable
{
    private readonly RewardModel _model;
    private readonly List<DeviceBuffer> _inFlight = [];
    private long _bucketEnd;

    /// <summary>Default bucket size: 4 Mi elements (16 MB of fp32), big enough that per-message costs vanish.</summary>
    public const long DefaultBucketElements = 4L << 20;

    public DataParallel(Communicator communicator, RewardModel model, long bucketElements = DefaultBucketElements)
    {
        Communicator = communicator ?? throw new ArgumentNullException(nameof(communicator));
        _model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketElements, 1);
        BucketElements = bucketElements;
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
        Communicator.StartAllReduce(bucket, ReduceOp.Mean);
        _bucketEnd = offset;
    }

    /// <summary>After the buckets: adds <paramref name="sums"/> elementwise over ranks, in place on the device (fp32:
    /// exact for counts below 2^24), and waits for it and every bucket: the gradients are the mean over ranks. The wait
    /// is for the communicator, not the device: on emu the collectives are queued on the stream and nothing waits, on
    /// NCCL it polls the stream (except while the step is being recorded).</summary>
    public void FinishGradients(DeviceBuffer<float> sums)
    {
        ArgumentNullException.ThrowIfNull(sums);
        try
        {
            Communicator.StartAllReduce(sums, ReduceOp.Sum);
            Communicator.Wait();
        }
        finally
        {
            foreach (DeviceBuffer bucket in _inFlight) bucket.Dispose();
            _inFlight.Clear();
        }
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
