namespace WorldPM.Workloads;

/// <summary>
/// How a benchmark run measures. <see cref="Quick"/> is a smoke run: shapes shrink (each workload says to what in its
/// <see cref="WorkloadResult.Shape"/>) so that every code path runs in seconds; its numbers are not measurements.
/// </summary>
/// <param name="Repetitions">Timed repetitions per workload, after one warm-up.</param>
/// <param name="Quick">Shrunken shapes for a smoke run.</param>
/// <param name="Bf16">W4 and W5 also run in bf16 (bf16 weights and activations, fp32 masters and optimizer state),
/// their repetitions alternating with fp32's, and report the speedup over fp32.</param>
/// <param name="CountKernels">The last repetition's body also runs under the emu backend's work counters
/// (<see cref="Timing.Kernels"/>; <c>worldpm profile</c>); its time then includes the counting.</param>
public sealed record BenchSettings(int Repetitions, bool Quick, bool Bf16 = false, bool CountKernels = false)
{
    /// <summary>The repetitions of a real run (median and min of 7, as in bench/RESULTS.md).</summary>
    public const int DefaultRepetitions = 7;

    /// <summary>The repetitions of a quick run.</summary>
    public const int QuickRepetitions = 1;

    /// <summary><paramref name="full"/> in a real run, <paramref name="quick"/> in a quick one.</summary>
    public T Pick<T>(T full, T quick) => Quick ? quick : full;
}
