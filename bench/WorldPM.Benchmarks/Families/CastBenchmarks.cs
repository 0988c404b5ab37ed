using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>Casts between f32 and a half dtype over N elements: forward f32 to the dtype (master weights to the
/// working copy), backward the dtype to f32 (gradients back to the master). Realistic: W1's 4096 x 2048.</summary>
public class CastBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [ShapeCase.Small("N", 4096), ShapeCase.Realistic("N", ReferenceSizes.GeluElements)];

    /// <summary>The half dtypes; f32 to f32 is a copy, not a cast.</summary>
    public override IEnumerable<DType> DTypes => [DType.F16, DType.BF16];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long n = Shape[0];
        DeviceBuffer<float> master = Random<float>(n), gradient = Random<float>(n);
        DeviceBuffer<T> working = Random<T>(n), workingGradient = Random<T>(n);
        return new Passes(
            () => Ops.Cast(Context, master, working),
            () => Ops.Cast(Context, workingGradient, gradient));
    }
}
