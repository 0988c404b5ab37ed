using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>Embedding lookup of N token ids in a [V, C] table, and its deterministic scatter-add backward.
/// Realistic: the reference model's vocabulary 8192 and d 512 over B4 x T512 tokens.</summary>
public class EmbeddingBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [
            ShapeCase.Small("N V C", 64, 256, 64),
            ShapeCase.Realistic("N V C", ReferenceSizes.Tokens, ReferenceSizes.Model.VocabSize, ReferenceSizes.Model.HiddenSize),
        ];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long tokens = Shape[0], vocab = Shape[1], channels = Shape[2];
        DeviceBuffer<int> ids = RandomIntegers(tokens, 0, (int)vocab);
        DeviceBuffer<T> table = Random<T>(vocab, channels), output = Random<T>(tokens, channels);
        DeviceBuffer<T> dout = Random<T>(tokens, channels), dtable = Random<T>(vocab, channels);
        return new Passes(
            () => Ops.EmbeddingForward(Context, ids, table, output, tokens, vocab, channels),
            () => Ops.EmbeddingBackward(Context, ids, dout, dtable, tokens, vocab, channels));
    }
}
