using WorldPM.Native;
using Head = WorldPM.Model.HeadActivations<WorldPM.Native.DeviceBuffer<float>>;
using Scratch = WorldPM.Model.BackwardScratch<WorldPM.Native.DeviceBuffer<float>>;

namespace WorldPM.Model;

/// <summary>
/// The preference head on the normalized hidden state of each scoring token:
/// reward = score.2(act(score.0(x))), Linear(d, h) -> act -> Linear(h, 1), both with bias (the
/// nn.Sequential indices 0 and 2 give the Hugging Face names); act is GELU (seed design) or ReLU
/// (the released WorldPM-72B head).
/// </summary>
internal sealed class PreferenceHead
{
    private readonly WorldPMContext context;
    private readonly Linear hidden, output;
    private readonly HeadActivation activation;

    public PreferenceHead(WorldPMContext context, ModelConfig config, ParameterStore store)
    {
        this.context = context;
        hidden = new Linear(store["score.0.weight"], store["score.0.bias"]);
        output = new Linear(store["score.2.weight"], store["score.2.bias"]);
        activation = config.HeadActivation;
    }

    /// <summary>score.0 [h, d] + bias, score.2 [1, h] + bias.</summary>
    public static IEnumerable<ParameterSpec> Specs(ModelConfig c)
    {
        yield return new("score.0.weight", ParameterKind.Matrix, c.HeadHiddenSize, c.HiddenSize);
        yield return new("score.0.bias", ParameterKind.Bias, c.HeadHiddenSize);
        yield return new("score.2.weight", ParameterKind.Matrix, 1, c.HeadHiddenSize);
        yield return new("score.2.bias", ParameterKind.Bias, 1);
    }

    /// <summary>Rewards [B] from PooledNorm [B, C].</summary>
    public void Forward(ActivationArena arena, Head a)
    {
        long b = arena.Shape.B;
        DeviceBuffer<float> ones = arena.Layout.Ones;
        hidden.Forward(context, a.PooledNorm, a.Hidden, b, ones);
        long n = b * arena.Shape.HeadHidden;
        if (activation == HeadActivation.Relu) Ops.ReluForward(context, a.Hidden, a.Activated, n);
        else Ops.GeluForward(context, a.Hidden, a.Activated, GeluKindOf(activation), n);
        output.Forward(context, a.Activated, a.Rewards, b, ones);
    }

    /// <summary>From g.Rewards (d loss / d reward) to g.PooledNorm; parameter gradients accumulate.</summary>
    public void Backward(ActivationArena arena, Head a, Scratch g)
    {
        long b = arena.Shape.B;
        DeviceBuffer<float> ones = arena.Layout.Ones;
        output.Backward(context, g.Rewards, a.Activated, g.Activated, b, ones);
        long n = b * arena.Shape.HeadHidden;
        if (activation == HeadActivation.Relu) Ops.ReluBackward(context, g.Activated, a.Hidden, g.Hidden, n);
        else Ops.GeluBackward(context, g.Activated, a.Hidden, g.Hidden, GeluKindOf(activation), n);
        hidden.Backward(context, g.Hidden, a.PooledNorm, g.PooledNorm, b, ones);
    }

    private static GeluKind GeluKindOf(HeadActivation activation) =>
        activation == HeadActivation.GeluExact ? GeluKind.Exact : GeluKind.Tanh;
}
