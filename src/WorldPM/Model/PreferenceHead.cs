using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// The preference head on the normalized hidden state of each scoring token:
/// reward = score.2(act(score.0(x))), Linear(d, h) -> act -> Linear(h, 1), both with bias (the
/// nn.Sequential indices 0 and 2 give the Hugging Face names); act is GELU (seed design) or ReLU
/// (the released WorldPM-72B head). It runs in the storage type T; the rewards leave it cast to fp32 for the
/// loss, and their gradient comes back cast to T.
/// </summary>
internal sealed class PreferenceHead<T> where T : unmanaged
{
    private readonly WorldPMContext context;
    private readonly Linear<T> hidden, output;
    private readonly HeadActivation activation;

    public PreferenceHead(WorldPMContext context, ModelConfig config, ParameterStore<T> store)
    {
        this.context = context;
        hidden = new Linear<T>(store["score.0.weight"], store["score.0.bias"]);
        output = new Linear<T>(store["score.2.weight"], store["score.2.bias"]);
        activation = config.HeadActivation;
    }

    /// <summary>fp32 rewards [B] from PooledNorm [B, C].</summary>
    public void Forward(ActivationArena<T> arena, HeadActivations<DeviceBuffer<T>, DeviceBuffer<float>> a)
    {
        long b = arena.Shape.B;
        hidden.Forward(context, a.PooledNorm, a.Hidden, b, arena);
        long n = b * arena.Shape.HeadHidden;
        if (activation == HeadActivation.Relu) Ops.ReluForward(context, a.Hidden, a.Activated, n);
        else Ops.GeluForward(context, a.Hidden, a.Activated, GeluKindOf(activation), n);
        output.Forward(context, a.Activated, a.Scores, b, arena);
        Ops.Cast(context, a.Scores, a.Rewards);
    }

    /// <summary>From g.Rewards (fp32 d loss / d reward) to g.PooledNorm; parameter gradients accumulate.</summary>
    public void Backward(ActivationArena<T> arena, HeadActivations<DeviceBuffer<T>, DeviceBuffer<float>> a,
        BackwardScratch<DeviceBuffer<T>, DeviceBuffer<float>> g)
    {
        long b = arena.Shape.B;
        DeviceBuffer<T> ones = arena.Layout.Ones;
        Ops.Cast(context, g.Rewards, g.Scores);
        output.Backward(context, g.Scores, a.Activated, g.Activated, b, ones);
        long n = b * arena.Shape.HeadHidden;
        if (activation == HeadActivation.Relu) Ops.ReluBackward(context, g.Activated, a.Hidden, g.Hidden, n);
        else Ops.GeluBackward(context, g.Activated, a.Hidden, g.Hidden, GeluKindOf(activation), n);
        hidden.Backward(context, g.Hidden, a.PooledNorm, g.PooledNorm, b, ones);
    }

    private static GeluKind GeluKindOf(HeadActivation activation) =>
        activation == HeadActivation.GeluExact ? GeluKind.Exact : GeluKind.Tanh;
}

/// <summary>The parameters of the preference head, whatever its storage type.</summary>
internal static class PreferenceHead
{
    /// <summary>score.0 [h, d] + bias, score.2 [1, h] + bias.</summary>
    public static IEnumerable<ParameterSpec> Specs(ModelConfig c)
    {
        yield return new("score.0.weight", ParameterKind.Matrix, c.HeadHiddenSize, c.HiddenSize);
        yield return new("score.0.bias", ParameterKind.Bias, c.HeadHiddenSize);
        yield return new("score.2.weight", ParameterKind.Matrix, 1, c.HeadHiddenSize);
        yield return new("score.2.bias", ParameterKind.Bias, 1);
    }
}
