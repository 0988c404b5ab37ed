using WorldPM.Native;

namespace WorldPM.Workloads;

/// <summary>
/// W1: GELU (tanh form) forward, then backward, on x of 4096×2048 fp32 (65,536 elements under a quick run).
/// Memory-bound: bytes = read + written, 2n·4 forward (x in, y out) and 3n·4 backward (dy and x in, dx out).
/// </summary>
public sealed class GeluWorkload : IWorkload
{
    public string Id => "W1";

    public string Title => "GELU tanh forward, backward";

    /// <summary>x's shape: 4096 × 2048, or 32 × 2048 under a quick run.</summary>
    public static (long Rows, long Cols) Input(bool quick) => (quick ? 32 : 4096, 2048);

    public IReadOnlyList<WorkloadResult> Run(WorldPMContext context, BenchSettings settings, SeedSequence seeds)
    {
        (long rows, long cols) = Input(settings.Quick);
        long n = rows * cols;
        using DeviceBuffer<float> x = context.Allocate<float>(rows, cols), y = context.Allocate<float>(rows, cols),
            dy = context.Allocate<float>(rows, cols), dx = context.Allocate<float>(rows, cols);
        void Fresh()
        {
            x.FillNormal(seeds.Next());
            dy.FillNormal(seeds.Next());
        }
        Timing forward = Timing.Measure(context, settings, Fresh, () => Ops.GeluForward(context, x, y));
        Timing backward = Timing.Measure(context, settings, Fresh, () => Ops.GeluBackward(context, dy, x, dx));
        string shape = $"x {rows}x{cols} fp32";
        return
        [
            new(Id, "fwd_ms", shape, forward, 2.0 * n * sizeof(float), CeilingKind.Copy, "bytes 2n*4 (x read, y written)", 0.70),
            new(Id, "bwd_ms", shape, backward, 3.0 * n * sizeof(float), CeilingKind.Copy, "bytes 3n*4 (dy, x read, dx written)", 0.70),
        ];
    }
}
