using System.Buffers;
using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

/// <summary>
/// Collectives over every rank of an <c>mpirun</c> launch, on the buffers of one context: MPI on the cpu and
/// emu backends, NCCL on cuda. Every rank calls the same collectives in the same order with the same sizes.
/// A collective that does not complete within <see cref="Timeout"/> throws <see cref="CommunicationException"/>
/// naming the ranks that did not answer; the communicator is broken afterwards and the process should exit
/// non-zero without calling <see cref="Shutdown"/>.
/// <code>
/// using var comm = Communicator.Create(context);
/// comm.AllReduce(gradients, ReduceOp.Mean);
/// </code>
/// </summary>
public sealed unsafe class Communicator : IDisposable, INativeObject
{
    private readonly CommHandle handle;
    // The host copies of started all-reduces (StartAllReduce with a host copy), pinned until the wait writes them.
    private readonly List<MemoryHandle> _pinnedCopies = [];

    private Communicator(CommHandle handle, WorldPMContext context, TimeSpan timeout)
    {
        this.handle = handle;
        Context = context;
        Timeout = timeout;
        int rank, size;
        using var lease = new HandleLease([this]);
        Check(NativeMethods.wpm_comm_rank(Ptr(this), &rank, &size));
        Rank = rank;
        Size = size;
    }

    NativeHandle INativeObject.Handle => handle;

    /// <summary>The default of <see cref="Create"/>: how long a collective may wait for the other ranks.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(60);

    /// <summary>The context whose buffers this communicator moves.</summary>
    public WorldPMContext Context { get; }

    /// <summary>This process's rank, 0 .. <see cref="Size"/> - 1.</summary>
    public int Rank { get; }

    /// <summary>The number of ranks (1 for a process not started by mpirun).</summary>
    public int Size { get; }

    /// <summary>How long one collective waits for the other ranks before it fails.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>
    /// Starts MPI in this process if needed and builds a communicator over every rank. Both wait for every rank at
    /// most <paramref name="timeout"/>: a rank that does not arrive (stopped or hung before MPI started) makes this
    /// throw <see cref="CommunicationException"/> naming it, and MPI cannot start in this process afterwards, so the
    /// process should exit non-zero (mpirun then ends the other ranks).
    /// </summary>
    public static Communicator Create(WorldPMContext context, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        TimeSpan wait = timeout ?? DefaultTimeout;
        if (wait <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), wait, "the timeout must be positive");
        var options = new NativeMethods.wpm_comm_options
        {
            struct_size = (nuint)sizeof(NativeMethods.wpm_comm_options),
            timeout_seconds = wait.TotalSeconds,
        };
        nint created;
        using (var lease = new HandleLease([context]))
            Check(NativeMethods.wpm_comm_create(Ptr(context), &options, &created));
        return new Communicator(new CommHandle(created), context, wait);
    }

    /// <summary>What this process could do (MPI built, launched by mpirun, its rank, NCCL), without starting MPI.</summary>
    public static CommInfo Query()
    {
        var info = new NativeMethods.wpm_comm_info { struct_size = (nuint)sizeof(NativeMethods.wpm_comm_info) };
        Check(NativeMethods.wpm_comm_query(&info));
        return new CommInfo(info.mpi_built != 0, info.launched != 0, info.world_size, info.rank, info.local_rank, info.local_size,
            info.nccl_available != 0, Utf8(info.mpi, 160), Utf8(info.nccl, 160));
    }

    /// <summary>
    /// Shuts MPI down after a clean run (collective: every rank calls it, last). Without it, mpirun reports the
    /// job as failed. A no-op when MPI never started; afterwards no communicator can be created.
    /// </summary>
    public static void Shutdown() => Check(NativeMethods.wpm_comm_finalize());

    /// <summary>Combines <paramref name="buffer"/> over the ranks, in place.</summary>
    public void AllReduce(DeviceBuffer buffer, ReduceOp op = ReduceOp.Sum)
    {
        using var lease = new HandleLease([this, buffer]);
        Check(NativeMethods.wpm_all_reduce(Ptr(this), Ptr(buffer), op));
    }

    /// <summary>
    /// Starts the same all-reduce and returns at once: it runs beside the caller's work (a gradient bucket while
    /// the backward of earlier layers goes on). Leave the buffer alone until <see cref="Wait"/>. On cuda (NCCL) and
    /// emu every collective is queued on the context's stream, ordered after the ops that produced its input, and a
    /// graph capture records it; on emu a failure (a dead or silent rank) is thrown by the call that runs the stream
    /// (the next read-back).
    /// </summary>
    public void StartAllReduce(DeviceBuffer buffer, ReduceOp op = ReduceOp.Sum)
    {
        using var lease = new HandleLease([this, buffer]);
        Check(NativeMethods.wpm_all_reduce_start(Ptr(this), Ptr(buffer), op));
    }

    /// <summary>
    /// Starts the same all-reduce; when <see cref="Wait"/> returns, <paramref name="hostCopy"/> also holds the result
    /// as <paramref name="buffer"/> holds it (f16/bf16 widened after their rounding). Free on the cpu backend; on emu
    /// the wait then waits for the stream, on NCCL it reads the buffer back. Refused while the context records a graph.
    /// <paramref name="hostCopy"/> stays pinned until then.
    /// </summary>
    public void StartAllReduce(DeviceBuffer buffer, ReduceOp op, Memory<float> hostCopy)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (hostCopy.Length != buffer.Count)
            throw new ArgumentException($"the host copy has {hostCopy.Length} elements; the buffer has {buffer.Count}", nameof(hostCopy));
        MemoryHandle pinned = hostCopy.Pin();
        try
        {
            using var lease = new HandleLease([this, buffer]);
            Check(NativeMethods.wpm_all_reduce_start_copy(Ptr(this), Ptr(buffer), op, (float*)pinned.Pointer, hostCopy.Length));
        }
        catch
        {
            pinned.Dispose();
            throw;
        }
        _pinnedCopies.Add(pinned);
    }

    /// <summary>Waits for every started all-reduce, in the order they were started; on emu, where they are stream work,
    /// only for those with a host copy.</summary>
    public void Wait()
    {
        try
        {
            using var lease = new HandleLease([this]);
            Check(NativeMethods.wpm_comm_wait(Ptr(this)));
        }
        finally
        {
            ReleaseCopies();
        }
    }

    /// <summary>
    /// Whether the collectives exchange host memory over MPI: on the cpu backend (the buffers themselves) and on emu
    /// (the emulator's device memory, copied inside the queued collective when the stream runs it) true; NCCL on cuda,
    /// which reduces in device memory, false.
    /// </summary>
    public bool ReducesInHostMemory => Context.Backend != Backend.Cuda;

    /// <summary>Copies rank <paramref name="root"/>'s buffer into every rank's.</summary>
    public void Broadcast(DeviceBuffer buffer, int root = 0)
    {
        using var lease = new HandleLease([this, buffer]);
        Check(NativeMethods.wpm_broadcast(Ptr(this), Ptr(buffer), root));
    }

    /// <summary><paramref name="received"/> (Size × n) = every rank's <paramref name="send"/> (n), in rank order.</summary>
    public void AllGather(DeviceBuffer send, DeviceBuffer received)
    {
        using var lease = new HandleLease([this, send, received]);
        Check(NativeMethods.wpm_all_gather(Ptr(this), Ptr(send), Ptr(received)));
    }

    /// <summary><paramref name="received"/> (n) = block <see cref="Rank"/> of <paramref name="send"/> (Size × n), combined over ranks.</summary>
    public void ReduceScatter(DeviceBuffer send, DeviceBuffer received, ReduceOp op = ReduceOp.Sum)
    {
        using var lease = new HandleLease([this, send, received]);
        Check(NativeMethods.wpm_reduce_scatter(Ptr(this), Ptr(send), Ptr(received), op));
    }

    /// <summary>Returns once every rank has called it.</summary>
    public void Barrier()
    {
        using var lease = new HandleLease([this]);
        Check(NativeMethods.wpm_barrier(Ptr(this)));
    }

    /// <summary>Frees the communicator (not a collective); started all-reduces finish first.</summary>
    public void Dispose()
    {
        handle.Dispose();
        ReleaseCopies();
    }

    private void ReleaseCopies()
    {
        foreach (MemoryHandle pinned in _pinnedCopies) pinned.Dispose();
        _pinnedCopies.Clear();
    }
}
