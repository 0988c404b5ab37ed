namespace WorldPM.Workloads;

/// <summary>Hands out a new seed for every random fill, so that no two inputs and no two repetitions share values,
/// and a run is still reproducible from its first seed.</summary>
public sealed class SeedSequence(ulong first = 1)
{
    private ulong next = first;

    public ulong Next() => next++;

    /// <summary>A seed for <see cref="Random"/> (host-side draws such as lengths and token ids).</summary>
    public int NextInt() => unchecked((int)Next());
}
