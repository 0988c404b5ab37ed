namespace WorldPM.Workloads;

/// <summary>Which ceiling a workload is measured against: memory-bound work against copy, compute-bound against GEMM.</summary>
public enum CeilingKind
{
    /// <summary>Bytes moved, in GB/s, against <see cref="Ceilings.CopyGBps"/>.</summary>
    Copy,

    /// <summary>FLOPs, in GFLOP/s, against <see cref="Ceilings.GemmGFlops"/>.</summary>
    Gemm,
}

/// <summary>
/// One timed part of a workload (e.g. W2's backward): its time, the work one repetition does by the workload's stated
/// count (bytes or FLOPs; <see cref="Formula"/> says which), and the benchmark issue's target as a fraction of the
/// ceiling.
/// </summary>
/// <param name="Id">W1 .. W5.</param>
/// <param name="Metric">What was timed, e.g. <c>fwd_ms</c>.</param>
/// <param name="Shape">The shape that ran (shrunken ones say so under a quick run).</param>
/// <param name="Work">Bytes (against copy) or FLOPs (against GEMM) per repetition.</param>
/// <param name="Formula">How <paramref name="Work"/> is counted.</param>
/// <param name="Target">The target fraction of the ceiling.</param>
/// <param name="Fp32">For a bf16 or batch-invariant variant: the plain fp32 timing of the same workload, measured alternating
/// with it.</param>
/// <param name="Packing">For a packed workload: its padded twin, measured alternating with it.</param>
public sealed record WorkloadResult(string Id, string Metric, string Shape, Timing Timing, double Work, CeilingKind Against,
    string Formula, double Target, Timing? Fp32 = null, PackingComparison? Packing = null)
{
    /// <summary>Real tokens per second at the median, for a packed workload; null otherwise.</summary>
    public double? RealTokensPerSecond => Packing is { } p ? p.RealTokens / (Timing.MedianMs * 1e-3) : null;

    /// <summary>fp32 median over this median, for a bf16 variant; null otherwise.</summary>
    public double? SpeedupOverFp32 => Fp32 is { } f ? f.MedianMs / Timing.MedianMs : null;

    /// <summary>GB/s or GFLOP/s at the median time.</summary>
    public double Rate => Work / (Timing.MedianMs * 1e-3) / 1e9;

    /// <summary>"GB/s" or "GFLOP/s".</summary>
    public string RateUnit => Against == CeilingKind.Copy ? "GB/s" : "GFLOP/s";

    /// <summary><see cref="Rate"/> over the ceiling of the same run.</summary>
    public double FractionOf(Ceilings ceilings) => Rate / ceilings.Of(Against);
}
