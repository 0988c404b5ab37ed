using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

public static unsafe partial class Ops
{
    /// <summary>
    /// The fused preference head (<c>wpm_preference_head_fwd</c>): from the scoring rows' hidden states x [B, d],
    /// the final RMSNorm, Linear(d, h) → <paramref name="activation"/> → Linear(h, 1) to fp32
    /// <paramref name="rewards"/> [B], and with <paramref name="pairs"/> &gt; 0 (B = 2 P: chosen rows first) the
    /// Bradley-Terry loss into <paramref name="loss"/> [1], as <see cref="BradleyTerryLossForward"/>.
    /// <paramref name="saved"/> f32 [B, h + 1] keeps what the backward needs.
    /// </summary>
    public static void PreferenceHeadForward<T>(WorldPMContext context, PreferenceHeadWeights<T> weights,
        DeviceBuffer<T> x, DeviceBuffer<float> rewards, DeviceBuffer<float> saved, long rows, long width,
        long hidden, PreferenceHeadActivation activation, float eps, DeviceBuffer<float>? loss = null, long pairs = 0,
        float margin = 0f, DeviceBuffer<float>? pairWeights = null) where T : unmanaged
    {
        using var lease = new HandleLease([context, x, weights.NormWeight, weights.W1, weights.B1, weights.W2,
            weights.B2, rewards, saved, loss, pairWeights]);
        var p = HeadParams(weights, x, saved, rows, width, hidden, activation, pairs, margin, pairWeights);
        p.eps = eps;
        p.rewards = Ptr(rewards);
        p.loss = Ptr(loss);
        Check(NativeMethods.wpm_preference_head_fwd(Ptr(context), &p));
    }

    /// <summary>
    /// The fused head's backward (<c>wpm_preference_head_bwd</c>): with <paramref name="pairs"/> &gt; 0 from the
    /// loss (d loss / d reward times <paramref name="dloss"/> is written to <paramref name="drewards"/>), else from
    /// the given <paramref name="drewards"/>; overwrites dx [B, d] and ACCUMULATES into <paramref name="grads"/>.
    /// </summary>
    public static void PreferenceHeadBackward<T>(WorldPMContext context, PreferenceHeadWeights<T> weights,
        PreferenceHeadWeights<T> grads, DeviceBuffer<T> x, DeviceBuffer<float> saved, DeviceBuffer<float> rewards,
        DeviceBuffer<float> drewards, DeviceBuffer<T> dx, long rows, long width, long hidden,
        PreferenceHeadActivation activation, long pairs = 0, float dloss = 1f, float margin = 0f,
        DeviceBuffer<float>? pairWeights = null) where T : unmanaged
    {
        using var lease = new HandleLease([context, x, weights.NormWeight, weights.W1, weights.B1, weights.W2,
            weights.B2, saved, rewards, drewards, dx, grads.NormWeight, grads.W1, grads.B1, grads.W2, grads.B2,
            pairWeights]);
        var p = HeadParams(weights, x, saved, rows, width, hidden, activation, pairs, margin, pairWeights);
        p.dloss = dloss;
        p.rewards = Ptr(rewards);
        p.drewards = Ptr(drewards);
        p.dx = Ptr(dx);
        p.dnorm_weight = Ptr(grads.NormWeight);
        p.dw1 = Ptr(grads.W1);
        p.db1 = Ptr(grads.B1);
        p.dw2 = Ptr(grads.W2);
        p.db2 = Ptr(grads.B2);
        Check(NativeMethods.wpm_preference_head_bwd(Ptr(context), &p));
    }

    /// <summary>The fields the head's forward and backward share.</summary>
    private static NativeMethods.wpm_preference_head_params HeadParams<T>(PreferenceHeadWeights<T> weights,
        DeviceBuffer<T> x, DeviceBuffer<float> saved, long rows, long width, long hidden,
        PreferenceHeadActivation activation, long pairs, float margin, DeviceBuffer<float>? pairWeights)
        where T : unmanaged => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_preference_head_params),
        b = rows,
        d = width,
        h = hidden,
        activation = activation,
        pairs = pairs,
        margin = margin,
        x = Ptr(x),
        norm_weight = Ptr(weights.NormWeight),
        w1 = Ptr(weights.W1),
        b1 = Ptr(weights.B1),
        w2 = Ptr(weights.W2),
        b2 = Ptr(weights.B2),
        weights = Ptr(pairWeights),
        saved = Ptr(saved),
    };
}
