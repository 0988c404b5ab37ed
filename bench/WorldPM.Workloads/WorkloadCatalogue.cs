namespace WorldPM.Workloads;

/// <summary>
/// The reference workloads of the benchmark issues, in order (W1–W5, then W4v and W5v, W4 and W5 on real data's
/// lengths, packed vs padded): the one place that says what they run, on which
/// shapes, counting which work against which ceiling. <c>worldpm bench</c> runs them on any backend; the
/// BenchmarkDotNet suite (bench/WorldPM.Benchmarks) takes the realistic shapes of its op families from them.
/// </summary>
public static class WorkloadCatalogue
{
    public static IReadOnlyList<IWorkload> All { get; } =
        [new GeluWorkload(), new AttentionWorkload(), new PreferenceHeadWorkload(), new TrainingStepWorkload(), new ScoringWorkload(),
            new VariableLengthWorkload(training: true), new VariableLengthWorkload(training: false)];

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
