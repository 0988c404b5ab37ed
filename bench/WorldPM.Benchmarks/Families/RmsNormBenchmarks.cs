using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>RMSNorm over N rows of C channels (the forward saves rstd; the backward writes dx and accumulates
/// dweight). Realistic: B4 x T512 rows of the reference model's d 512.</summary>
public class RmsNormBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [
            ShapeCase.Small("N C", 64, 64),
            ShapeCase.Realistic("N C", ReferenceSizes.Tokens, ReferenceSizes.Model.HiddenSize),
        ];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long rows = Shape[0], channels = Shape[1];
        DeviceBuffer<T> x = Random<T>(rows, channels), weight = Random<T>(channels), output = Random<T>(rows, channels);
        DeviceBuffer<float> rstd = Random<float>(rows);
        DeviceBuffer<T> dout = Random<T>(rows, channels), dx = Random<T>(rows, channels), dweight = Random<T>(channels);
        return new Passes(
            () => Ops.RmsNormForward(Context, x, weight, output, rstd, rows, channels),
            () => Ops.RmsNormBackward(Context, dout, x, weight, rstd, dx, dweight, rows, channels));
    }
}
