using System.Runtime.InteropServices;

namespace WorldPM.Native.Interop;

/// <summary>Collectives across the ranks of an mpirun launch (worldpm.h, "collectives").</summary>
internal static unsafe partial class NativeMethods
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_comm_info
    {
        public nuint struct_size;
        public int mpi_built;
        public int launched;
        public int world_size;
        public int rank;
        public int local_rank;
        public int local_size;
        public int nccl_available;
        public fixed byte mpi[160];
        public fixed byte nccl[160];
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_comm_options
    {
        public nuint struct_size;
        public double timeout_seconds;
    }

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_comm_query(wpm_comm_info* info);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_comm_create(nint context, wpm_comm_options* options, nint* comm);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_comm_destroy(nint comm);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_comm_finalize();

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_comm_rank(nint comm, int* rank, int* size);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_all_reduce(nint comm, nint buffer, ReduceOp op);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_all_reduce_start(nint comm, nint buffer, ReduceOp op);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_all_reduce_start_copy(nint comm, nint buffer, ReduceOp op, float* hostCopy,
        long hostCount);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_comm_wait(nint comm);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_broadcast(nint comm, nint buffer, int root);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_all_gather(nint comm, nint send, nint recv);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_reduce_scatter(nint comm, nint send, nint recv, ReduceOp op);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_barrier(nint comm);
}
