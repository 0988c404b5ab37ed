using BenchmarkDotNet.Attributes;
using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>GELU y = GELU(x) and dx = dy GELU'(x) over N elements, tanh and exact (erf) forms. Realistic: W1's
/// 4096 x 2048.</summary>
public class GeluBenchmarks : PassBenchmark
{
    /// <summary>The GELU formula.</summary>
    [Params(GeluKind.Tanh, GeluKind.Exact)]
    public GeluKind Kind { get; set; }

    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [ShapeCase.Small("N", 4096), ShapeCase.Realistic("N", ReferenceSizes.GeluElements)];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long n = Shape[0];
        DeviceBuffer<T> x = Random<T>(n), y = Random<T>(n), dy = Random<T>(n), dx = Random<T>(n);
        return new Passes(
            () => Ops.GeluForward(Context, x, y, Kind),
            () => Ops.GeluBackward(Context, dy, x, dx, Kind));
    }
}
