using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>SwiGLU out = silu(gate) * up over N elements, and its backward (dgate, dup). Realistic: the reference
/// model's MLP, B4 x T512 tokens x 1408.</summary>
public class SwigluBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [
            ShapeCase.Small("N", 4096),
            ShapeCase.Realistic("N", ReferenceSizes.Tokens * ReferenceSizes.Model.IntermediateSize),
        ];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long n = Shape[0];
        DeviceBuffer<T> gate = Random<T>(n), up = Random<T>(n), output = Random<T>(n);
        DeviceBuffer<T> dout = Random<T>(n), dgate = Random<T>(n), dup = Random<T>(n);
        return new Passes(
            () => Ops.SwiGluForward(Context, gate, up, output),
            () => Ops.SwiGluBackward(Context, dout, gate, up, dgate, dup));
    }
}
