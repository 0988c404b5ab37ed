using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;
using WorldPM.Workloads;

namespace WorldPM.Benchmarks;

/// <summary>
/// Last-token pooling of hidden states [B, T, C] (right padding, random lengths): the forward gathers each
/// sequence's scoring row, the backward writes the whole of dhidden (zeros but for those rows). The dtype is the
/// hidden states'. Realistic: W3's 128 x 256 x 1024.
/// </summary>
public class LastTokenPoolBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
    [
        ShapeCase.Small("B T C", 4, 16, 64),
        ShapeCase.Realistic("B T C", PreferenceHeadWorkload.Rows, PreferenceHeadWorkload.Tokens(quick: false),
            PreferenceHeadWorkload.Channels),
    ];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long b = Shape[0], t = Shape[1], c = Shape[2];
        DeviceBuffer<int> lengths = RandomIntegers(b, 1, (int)t + 1);
        DeviceBuffer<T> hidden = Random<T>(b, t, c), pooled = Random<T>(b, c);
        DeviceBuffer<T> dpooled = Random<T>(b, c), dhidden = Random<T>(b, t, c);
        return new Passes(
            () => Ops.LastTokenPoolForward(Context, hidden, lengths, pooled, b, t, c),
            () => Ops.LastTokenPoolBackward(Context, dpooled, lengths, dhidden, b, t, c));
    }
}
