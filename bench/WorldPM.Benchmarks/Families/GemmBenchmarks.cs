using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>GEMM C = A B (A [M, K], B [K, N]); the backward is dA = dC B^T and dB = A^T dC. Realistic: the
/// reference model's MLP up-projection over B4 x T512 tokens.</summary>
public class GemmBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [
            ShapeCase.Small("M N K", 64, 64, 64),
            ShapeCase.Realistic("M N K", ReferenceSizes.Tokens, ReferenceSizes.Model.IntermediateSize, ReferenceSizes.Model.HiddenSize),
        ];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long m = Shape[0], n = Shape[1], k = Shape[2];
        DeviceBuffer<T> a = Random<T>(m, k), b = Random<T>(k, n), c = Random<T>(m, n);
        DeviceBuffer<T> dc = Random<T>(m, n), da = Random<T>(m, k), db = Random<T>(k, n);
        return new Passes(
            () => Ops.Gemm(Context, a, b, c, m, n, k),
            () =>
            {
                Ops.Gemm(Context, dc, b, da, m, k, n, transposeB: true);
                Ops.Gemm(Context, a, dc, db, k, n, m, transposeA: true);
            });
    }
}
