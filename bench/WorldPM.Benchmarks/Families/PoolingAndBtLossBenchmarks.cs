using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>
/// The preference tail: last-token pooling of hidden states [B, T, C] (right padding, random lengths) and the
/// Bradley-Terry loss over B/2 pairs of f32 rewards; the backward runs the loss backward, then the pooling
/// backward that writes the whole of dhidden. The dtype is the hidden states'; rewards are f32 as the ABI asks.
/// Realistic: W3's 128 x 256 x 1024.
/// </summary>
public class PoolingAndBtLossBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [ShapeCase.Small("B T C", 4, 16, 64), ShapeCase.Realistic("B T C", 128, 256, 1024)];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long b = Shape[0], t = Shape[1], c = Shape[2], pairs = b / 2;
        DeviceBuffer<int> lengths = RandomIntegers(b, 1, (int)t + 1);
        DeviceBuffer<T> hidden = Random<T>(b, t, c), pooled = Random<T>(b, c);
        DeviceBuffer<T> dpooled = Random<T>(b, c), dhidden = Random<T>(b, t, c);
        DeviceBuffer<float> chosen = Random<float>(pairs), rejected = Random<float>(pairs), loss = Random<float>(1);
        DeviceBuffer<float> dchosen = Random<float>(pairs), drejected = Random<float>(pairs);
        return new Passes(
            () =>
            {
                Ops.LastTokenPoolForward(Context, hidden, lengths, pooled, b, t, c);
                Ops.BradleyTerryLossForward(Context, chosen, rejected, loss);
            },
            () =>
            {
                Ops.BradleyTerryLossBackward(Context, chosen, rejected, dchosen, drejected);
                Ops.LastTokenPoolBackward(Context, dpooled, lengths, dhidden, b, t, c);
            });
    }
}
