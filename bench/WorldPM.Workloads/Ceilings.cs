using WorldPM.Native;

namespace WorldPM.Workloads;

/// <summary>
/// What the machine can do on the backend, measured in the same run as the workloads so that every workload number
/// has a denominator from the same conditions (clocks, other load): device buffer copy in GB/s counting bytes read
/// plus bytes written, on 256 MiB each way (far beyond any cache), and fp32 GEMM 2048³ through the library's own
/// <see cref="Ops.Gemm{T}(WorldPMContext, DeviceBuffer{T}, DeviceBuffer{T}, DeviceBuffer{T}, long, long, long, bool, bool, float, float)"/>
/// in GFLOP/s (2 n³ per product).
/// </summary>
public sealed record Ceilings(Timing Copy, long CopyBytes, Timing Gemm, long GemmSize)
{
    /// <summary>GB/s (bytes read + written) at the median copy time.</summary>
    public double CopyGBps => CopyBytes / (Copy.MedianMs * 1e-3) / 1e9;

    /// <summary>GFLOP/s at the median GEMM time.</summary>
    public double GemmGFlops => GemmFlops / (Gemm.MedianMs * 1e-3) / 1e9;

    /// <summary>2 n³.</summary>
    public double GemmFlops => 2.0 * GemmSize * GemmSize * GemmSize;

    /// <summary>The rate a workload is compared with, in the unit of its <see cref="WorkloadResult.Rate"/>.</summary>
    public double Of(CeilingKind kind) => kind == CeilingKind.Copy ? CopyGBps : GemmGFlops;

    /// <summary>Measures both ceilings; a quick run uses 4 MiB copies and a 256³ GEMM.</summary>
    public static Ceilings Measure(WorldPMContext context, BenchSettings settings, SeedSequence seeds)
    {
        long copyCount = settings.Pick(64L << 20, 1L << 20);  // fp32 elements: 256 MiB each way
        Timing copy;
        using (DeviceBuffer<float> source = context.Allocate<float>(copyCount), target = context.Allocate<float>(copyCount))
        {
            source.FillUniform(seeds.Next(), -1f, 1f);
            copy = Timing.Measure(context, settings.Repetitions, () => { }, () => target.CopyFrom(source));
        }

        long n = settings.Pick(2048L, 256L);
        using DeviceBuffer<float> a = context.Allocate<float>(n, n), b = context.Allocate<float>(n, n), c = context.Allocate<float>(n, n);
        Timing gemm = Timing.Measure(context, settings.Repetitions,
            () => { a.FillUniform(seeds.Next(), -1f, 1f); b.FillUniform(seeds.Next(), -1f, 1f); },
            () => Ops.Gemm(context, a, b, c, n, n, n));
        return new Ceilings(copy, 2 * copyCount * sizeof(float), gemm, n);
    }
}
