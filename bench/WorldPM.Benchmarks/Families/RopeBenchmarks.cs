using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>Rotary embedding in place on [B, T, H, D] with pos = t, and its inverse rotation on the gradient.
/// Both are rotations, so repeating them in place keeps the values' scale. Realistic: the reference model's query
/// heads over B4 x T512.</summary>
public class RopeBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [
            ShapeCase.Small("B T H D", 1, 16, 2, 64),
            ShapeCase.Realistic("B T H D", ReferenceSizes.Batch.Batch, ReferenceSizes.Batch.Tokens, ReferenceSizes.Model.NumAttentionHeads,
                ReferenceSizes.Model.HeadDim),
        ];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long b = Shape[0], t = Shape[1], h = Shape[2], d = Shape[3];
        DeviceBuffer<T> x = Random<T>(b, t, h, d), dx = Random<T>(b, t, h, d);
        return new Passes(
            () => Ops.RopeForward(Context, x, null, b, t, h, d),
            () => Ops.RopeBackward(Context, dx, null, b, t, h, d));
    }
}
