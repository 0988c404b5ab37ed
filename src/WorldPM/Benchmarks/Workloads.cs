namespace WorldPM.Benchmarks;

/// <summary>
/// The five reference workloads of the benchmark issue, in order. <c>worldpm bench</c> runs them on any backend;
/// bench/native/workloads.cpp (<c>worldpm_bench</c>) times W1–W3 with the same shapes and counts straight through
/// the C ABI, for native-only use (no .NET), and the two should agree.
/// </summary>
public static class Workloads
{
    public static IReadOnlyList<IWorkload> All { get; } =
        [new GeluWorkload(), new AttentionWorkload(), new PreferenceHeadWorkload(), new TrainingStepWorkload(), new ScoringWorkload()];

    /// <summary>The workloads with these ids (case-insensitive), in their own order.</summary>
    /// <exception cref="ArgumentException">An id that names no workload.</exception>
    public static IReadOnlyList<IWorkload> Select(IEnumerable<string> ids)
    {
        var wanted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string id in ids)
        {
            if (!All.Any(w => string.Equals(w.Id, id, StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException($"unknown workload '{id}'; the workloads are {string.Join(", ", All.Select(w => w.Id))}");
            wanted.Add(id);
        }
        return All.Where(w => wanted.Contains(w.Id)).ToList();
    }
}
