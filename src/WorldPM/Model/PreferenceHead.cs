using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// The final RMSNorm (model.norm) on each sequence's scoring row and the preference head on it:
/// reward = score.2(act(score.0(norm(x)))), Linear(d, h) -> act -> Linear(h, 1), both with bias (the
/// nn.Sequential indices 0 and 2 give the Hugging Face names); act is GELU (seed design) or ReLU
/// (the released WorldPM-72B head). Given a <see cref="PairLoss"/>, the Bradley-Terry loss joins the forward and
/// the backward starts from it; without one, the backward starts from d loss / d reward in the scratch.
/// <para>
/// <see cref="Fused"/> runs each direction as one native op (<see cref="Ops.PreferenceHeadForward{T}"/>:
/// one kernel launch each way on a device); otherwise the chain of ops it replaces runs (norm, GEMM, activation,
/// GEMM, cast, loss), kept as the reference the fused op is tested against.
/// </para>
/// </summary>
internal sealed class PreferenceHead<T> where T : unmanaged
{
    private readonly WorldPMContext context;
    private readonly Weight<T> norm;
    private readonly Linear<T> hidden, output;
    private readonly HeadActivation activation;
    private readonly Weight<T> w1, b1, w2, b2;
    private readonly PreferenceHeadWeights<T> weights;
    private PreferenceHeadWeights<T>? grads;
    private readonly float eps;

    public PreferenceHead(WorldPMContext context, ModelConfig config, ParameterStore<T> store)
    {
        this.context = context;
        norm = store["model.norm.weight"];
        (w1, b1) = (store["score.0.weight"], store["score.0.bias"]);
        (w2, b2) = (store["score.2.weight"], store["score.2.bias"]);
        hidden = new Linear<T>(w1, b1);
        output = new Linear<T>(w2, b2);
        weights = new(norm.Value, w1.Value, b1.Value, w2.Value, b2.Value);
        activation = config.HeadActivation;
        eps = (float)config.RmsNormEps;
    }

    /// <summary>The head's gradients for the fused backward, made by the first backward (a model that only scores
    /// has none).</summary>
    private PreferenceHeadWeights<T> Grads => grads ??= new(norm.Grad, w1.Grad, b1.Grad, w2.Grad, b2.Grad);

    /// <summary>One native op each way (the default, in every storage type), or the chain of ops.</summary>
    public bool Fused { get; set; } = true;

    /// <summary>fp32 rewards [B] from Pooled [B, C], and with <paramref name="loss"/> the loss into a.Loss.</summary>
    public void Forward(ActivationArena<T> arena, HeadActivations<DeviceBuffer<T>, DeviceBuffer<float>> a,
        PairLoss? loss)
    {
        BatchShape s = arena.Shape;
        if (Fused)
        {
            Ops.PreferenceHeadForward(context, weights, a.Pooled, a.Rewards, a.Saved, s.B, s.C, s.HeadHidden,
                NativeActivation, eps, loss is null ? null : a.Loss, loss?.Pairs ?? 0, pairWeights: loss?.Weights);
            return;
        }
        Normalize(arena, a);
        hidden.Forward(context, a.PooledNorm, a.Hidden, s.B, arena);
        long n = s.B * s.HeadHidden;
        if (activation == HeadActivation.Relu) Ops.ReluForward(context, a.Hidden, a.Activated, n);
        else Ops.GeluForward(context, a.Hidden, a.Activated, GeluKindOf(activation), n);
        output.Forward(context, a.Activated, a.Scores, s.B, arena);
        Ops.Cast(context, a.Scores, a.Rewards);
        if (loss is not { } l) return;
        using DeviceBuffer<float> chosen = a.Rewards.View(0, l.Pairs), rejected = a.Rewards.View(l.Pairs, l.Pairs);
        Ops.BradleyTerryLossForward(context, chosen, rejected, a.Loss, weights: l.Weights, pairs: l.Pairs);
    }

    /// <summary>a.PooledNorm = model.norm(a.Pooled) [B, C] (the fused forward does not write it).</summary>
    public void Normalize(ActivationArena<T> arena, HeadActivations<DeviceBuffer<T>, DeviceBuffer<float>> a)
    {
        BatchShape s = arena.Shape;
        Ops.RmsNormForward(context, a.Pooled, norm.Value, a.PooledNorm, a.PooledRstd, s.B, s.C, eps);
    }

    /// <summary>To g.Pooled (d loss / d Pooled) from the loss (with <paramref name="loss"/>: g.Rewards receives
    /// d loss / d reward times its scale) or from g.Rewards; parameter gradients accumulate.</summary>
    public void Backward(ActivationArena<T> arena, HeadActivations<DeviceBuffer<T>, DeviceBuffer<float>> a,
        BackwardScratch<DeviceBuffer<T>, DeviceBuffer<float>> g, PairLoss? loss)
    {
        BatchShape s = arena.Shape;
        if (Fused)
        {
            Ops.PreferenceHeadBackward(context, weights, Grads, a.Pooled, a.Saved, a.Rewards, g.Rewards, g.Pooled, s.B,
                s.C, s.HeadHidden, NativeActivation, loss?.Pairs ?? 0, loss?.Scale ?? 1f, pairWeights: loss?.Weights);
            return;
        }
        if (loss is { } l)
        {
            using DeviceBuffer<float> chosen = a.Rewards.View(0, l.Pairs), rejected = a.Rewards.View(l.Pairs, l.Pairs);
            using DeviceBuffer<float> dChosen = g.Rewards.View(0, l.Pairs), dRejected = g.Rewards.View(l.Pairs, l.Pairs);
            Ops.BradleyTerryLossBackward(context, chosen, rejected, dChosen, dRejected, l.Scale, weights: l.Weights,
                pairs: l.Pairs);
        }
        DeviceBuffer<T> ones = arena.Layout.Ones;
        Ops.Cast(context, g.Rewards, g.Scores);
        output.Backward(context, g.Scores, a.Activated, g.Activated, s.B, ones);
        long n = s.B * s.HeadHidden;
        if (activation == HeadActivation.Relu) Ops.ReluBackward(context, g.Activated, a.Hidden, g.Hidden, n);
        else Ops.GeluBackward(context, g.Activated, a.Hidden, g.Hidden, GeluKindOf(activation), n);
        hidden.Backward(context, g.Hidden, a.PooledNorm, g.PooledNorm, s.B, ones);
        Ops.RmsNormBackward(context, g.PooledNorm, a.Pooled, norm.Value, a.PooledRstd, g.Pooled, norm.Grad, s.B, s.C);
    }

    private PreferenceHeadActivation NativeActivation => activation switch
    {
        HeadActivation.Relu => PreferenceHeadActivation.Relu,
        HeadActivation.GeluExact => PreferenceHeadActivation.GeluExact,
        _ => PreferenceHeadActivation.GeluTanh,
    };

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
