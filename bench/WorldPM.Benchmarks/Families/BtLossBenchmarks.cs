using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;
using WorldPM.Workloads;

namespace WorldPM.Benchmarks;

/// <summary>
/// The Bradley-Terry loss over P pairs of rewards, -mean log sigmoid(chosen - rejected), and its backward (dchosen,
/// drejected). Rewards are f32, as the ABI asks. Realistic: W3's 64 pairs.
/// </summary>
public class BtLossBenchmarks : PassBenchmark
{
    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [ShapeCase.Small("P", 2), ShapeCase.Realistic("P", PreferenceHeadWorkload.Rows / 2)];

    /// <summary>Rewards and their gradients are f32 whatever the model's dtype.</summary>
    public override IEnumerable<DType> DTypes => [DType.F32];

    /// <inheritdoc/>
    protected override Passes Build<T>()
    {
        long pairs = Shape[0];
        DeviceBuffer<float> chosen = Random<float>(pairs), rejected = Random<float>(pairs), loss = Random<float>(1);
        DeviceBuffer<float> dchosen = Random<float>(pairs), drejected = Random<float>(pairs);
        return new Passes(
            () => Ops.BradleyTerryLossForward(Context, chosen, rejected, loss),
            () => Ops.BradleyTerryLossBackward(Context, chosen, rejected, dchosen, drejected));
    }
}
