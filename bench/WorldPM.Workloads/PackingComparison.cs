namespace WorldPM.Workloads;

/// <summary>
/// A packed workload's padded twin, timed in the same run alternating with it on the same sequences: what packing
/// saved, and what it could save at most, the padded token rows over the real tokens (the work that scales with
/// tokens shrinks by that much; attention, which scales with the square of each sequence, shrinks by more).
/// </summary>
/// <param name="Padded">The padded layout's timing.</param>
/// <param name="RealTokens">Real tokens of one repetition.</param>
/// <param name="PaddedTokens">Token rows of the padded layout: sequences times the longest.</param>
public sealed record PackingComparison(Timing Padded, long RealTokens, long PaddedTokens)
{
    /// <summary>The target: the speedup reaches this fraction of <see cref="IdealSpeedup"/>.</summary>
    public const double TargetFractionOfIdeal = 0.85;

    /// <summary>Padded tokens over real tokens.</summary>
    public double IdealSpeedup => (double)PaddedTokens / RealTokens;

    /// <summary>The padded median over the packed median <paramref name="packed"/>.</summary>
    public double SpeedupOver(Timing packed) => Padded.MedianMs / packed.MedianMs;
}
