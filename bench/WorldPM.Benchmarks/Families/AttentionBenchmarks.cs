using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>Fused causal attention with grouped-query heads, full-length sequences; the backward recomputes the
/// scores from the forward's lse. Realistic: one layer of the reference model (8 query heads over 2 KV heads,
/// D 64) on B4 x T512.</summary>
public class AttentionBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [
            ShapeCase.Small("B T H KVH D", 1, 32, 2, 1, 64),
            ShapeCase.Realistic("B T H KVH D", ReferenceSizes.Batch.Batch, ReferenceSizes.Batch.Tokens,
                ReferenceSizes.Model.NumAttentionHeads, ReferenceSizes.Model.NumKeyValueHeads, ReferenceSizes.Model.HeadDim),
        ];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        var shape = new AttentionShape(Shape[0], Shape[1], Shape[2], Shape[3], Shape[4]);
        long b = shape.Batch, t = shape.Tokens, h = shape.Heads, kvh = shape.KeyValueHeads, d = shape.HeadDim;
        DeviceBuffer<T> q = Random<T>(b, t, h, d), k = Random<T>(b, t, kvh, d), v = Random<T>(b, t, kvh, d);
        DeviceBuffer<T> output = Random<T>(b, t, h, d), dout = Random<T>(b, t, h, d);
        DeviceBuffer<T> dq = Random<T>(b, t, h, d), dk = Random<T>(b, t, kvh, d), dv = Random<T>(b, t, kvh, d);
        DeviceBuffer<float> lse = Random<float>(b, h, t);
        return new Passes(
            () => Ops.AttentionForward(Context, q, k, v, output, lse, shape),
            () => Ops.AttentionBackward(Context, q, k, v, output, lse, dout, dq, dk, dv, shape));
    }
}
