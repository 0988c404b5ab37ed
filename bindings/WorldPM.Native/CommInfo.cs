namespace WorldPM.Native;

/// <summary>What this process can do for data parallelism, read without starting MPI.</summary>
/// <param name="MpiBuilt">The library was built with MPI.</param>
/// <param name="Launched">A launcher (mpirun) started this process in a world of more than one rank.</param>
/// <param name="WorldSize">Ranks in the launch (1 when not launched).</param>
/// <param name="Rank">This process's rank (0 when not launched).</param>
/// <param name="LocalRank">Its rank among the processes on this host: the GPU it uses.</param>
/// <param name="LocalSize">Ranks on this host (1 when not launched): they share its cores.</param>
/// <param name="NcclAvailable">libnccl.so.2 loads with every function the cuda collectives need.</param>
/// <param name="Mpi">The MPI library, or why there is none.</param>
/// <param name="Nccl">The NCCL version, or why it is unavailable.</param>
public sealed record CommInfo(bool MpiBuilt, bool Launched, int WorldSize, int Rank, int LocalRank, int LocalSize, bool NcclAvailable,
    string Mpi, string Nccl);
