using WorldPM.Native;

namespace WorldPM.Workloads;

/// <summary>A reference workload of the benchmark issue: allocates its inputs, times its parts, frees everything.</summary>
public interface IWorkload
{
    /// <summary>W1 .. W5.</summary>
    string Id { get; }

    /// <summary>One line: what runs.</summary>
    string Title { get; }

    IReadOnlyList<WorkloadResult> Run(WorldPMContext context, BenchSettings settings, SeedSequence seeds);
}
