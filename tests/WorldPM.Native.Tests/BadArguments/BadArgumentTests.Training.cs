using System.Runtime.InteropServices;
using WorldPM.Native.Interop;
using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native.Tests.BadArguments;

public sealed unsafe partial class BadArgumentTests
{
    private static BadCall[] TrainingCases() =>
    [
        // Last-token pooling: B 2, T 3, C 4.
        Invalid("last_token_pool_fwd: lengths too small", "lengths", a =>
            Ops.LastTokenPoolForward(a.Context, a.F32(24), a.I32(1), a.F32(8), 2, 3, 4)),
        Invalid("last_token_pool_fwd: t 0", "t", a => Ops.LastTokenPoolForward(a.Context, a.F32(24), a.I32(2), a.F32(8), 2, 0, 4)),
        Invalid("last_token_pool_fwd: padding 3", "padding", a =>
            Ops.LastTokenPoolForward(a.Context, a.F32(24), a.I32(2), a.F32(8), 2, 3, 4, (Padding)3)),
        WrongDType("last_token_pool_fwd: f32 lengths", "lengths", a =>
        {
            var p = RawLastTokenPool(a.F32(2));
            p.hidden = Arena.P(a.F32(24));
            p.@out = Arena.P(a.F32(8));
            Check(NativeMethods.wpm_last_token_pool_fwd(a.Ctx, &p));
        }),
        Invalid("last_token_pool_bwd: dhidden too small", "dhidden", a =>
            Ops.LastTokenPoolBackward(a.Context, a.F32(8), a.I32(2), a.F32(23), 2, 3, 4)),
        Invalid("last_token_pool_bwd: c 0", "c", a => Ops.LastTokenPoolBackward(a.Context, a.F32(8), a.I32(2), a.F32(24), 2, 3, 0)),
        Invalid("last_token_pool_fwd: NULL params", "params", a => Check(NativeMethods.wpm_last_token_pool_fwd(a.Ctx, null))),
        Invalid("last_token_pool_bwd: struct_size of an older, smaller struct", "params", a =>
        {
            var p = RawLastTokenPool(a.I32(2));
            p.dout = Arena.P(a.F32(8));
            p.dhidden = Arena.P(a.F32(24));
            p.struct_size = (nuint)Marshal.OffsetOf<NativeMethods.wpm_last_token_pool_params>(
                nameof(NativeMethods.wpm_last_token_pool_params.dhidden));
            Check(NativeMethods.wpm_last_token_pool_bwd(a.Ctx, &p));
        }),

        // Bradley-Terry loss: 3 pairs.
        Invalid("bt_loss_fwd: NULL params", "params", a => Check(NativeMethods.wpm_bt_loss_fwd(a.Ctx, null))),
        Invalid("bt_loss_bwd: struct_size 0", "params", a =>
        {
            var p = new NativeMethods.wpm_bt_loss_params();
            Check(NativeMethods.wpm_bt_loss_bwd(a.Ctx, &p));
        }),
        Invalid("bt_loss_fwd: 0 pairs", "pairs", a => Ops.BradleyTerryLossForward(a.Context, a.F32(3), a.F32(3), a.F32(1), pairs: 0)),
        Invalid("bt_loss_fwd: NaN margin", "margin", a =>
            Ops.BradleyTerryLossForward(a.Context, a.F32(3), a.F32(3), a.F32(1), margin: float.NaN)),
        Invalid("bt_loss_fwd: empty loss buffer", "loss", a => Ops.BradleyTerryLossForward(a.Context, a.F32(3), a.F32(3), a.F32(0))),
        Invalid("bt_loss_fwd: weights too small", "weights", a =>
            Ops.BradleyTerryLossForward(a.Context, a.F32(3), a.F32(3), a.F32(1), weights: a.F32(2))),
        Invalid("bt_loss_bwd: infinite dloss", "dloss", a =>
            Ops.BradleyTerryLossBackward(a.Context, a.F32(3), a.F32(3), a.F32(3), a.F32(3), dloss: float.PositiveInfinity)),
        Invalid("bt_loss_bwd: drejected too small", "drejected", a =>
            Ops.BradleyTerryLossBackward(a.Context, a.F32(3), a.F32(3), a.F32(3), a.F32(2))),

        // The fused preference head: B 2 (one pair), d 4, h 4.
        Invalid("preference_head_fwd: NULL params", "params", a => Check(NativeMethods.wpm_preference_head_fwd(a.Ctx, null))),
        Invalid("preference_head_fwd: h 0", "h", a =>
            Ops.PreferenceHeadForward(a.Context, HeadWeights(a), a.F32(8), a.F32(2), a.F32(10), 2, 4, 0,
                PreferenceHeadActivation.Relu, 1e-6f)),
        Invalid("preference_head_fwd: saved too small", "saved", a =>
            Ops.PreferenceHeadForward(a.Context, HeadWeights(a), a.F32(8), a.F32(2), a.F32(9), 2, 4, 4,
                PreferenceHeadActivation.GeluTanh, 1e-6f)),
        Invalid("preference_head_fwd: activation 3", "activation", a =>
            Ops.PreferenceHeadForward(a.Context, HeadWeights(a), a.F32(8), a.F32(2), a.F32(10), 2, 4, 4,
                (PreferenceHeadActivation)3, 1e-6f)),
        Invalid("preference_head_fwd: pairs not b / 2", "pairs", a =>
            Ops.PreferenceHeadForward(a.Context, HeadWeights(a), a.F32(8), a.F32(2), a.F32(10), 2, 4, 4,
                PreferenceHeadActivation.GeluExact, 1e-6f, loss: a.F32(1), pairs: 2)),
        Invalid("preference_head_bwd: dx too small", "dx", a =>
            Ops.PreferenceHeadBackward(a.Context, HeadWeights(a), HeadWeights(a), a.F32(8), a.F32(10), a.F32(2),
                a.F32(2), a.F32(7), 2, 4, 4, PreferenceHeadActivation.Relu)),

        // AdamW: two tensors of 4 elements unless the case says otherwise.
        Invalid("adamw_step: negative lr", "lr", a => Ops.AdamWStep(a.Context, Tensors(a, 4, 4), new AdamWSettings(-1e-3f), 1)),
        Invalid("adamw_step: beta1 1", "beta1", a =>
            Ops.AdamWStep(a.Context, Tensors(a, 4, 4), new AdamWSettings(1e-3f) { Beta1 = 1 }, 1)),
        Invalid("adamw_step: eps 0", "eps", a => Ops.AdamWStep(a.Context, Tensors(a, 4, 4), new AdamWSettings(1e-3f) { Epsilon = 0 }, 1)),
        Invalid("adamw_step: step 0", "step", a => Ops.AdamWStep(a.Context, Tensors(a, 4, 4), new AdamWSettings(1e-3f), 0)),
        Invalid("adamw_step: grads[1] too small", "grads[1]", a =>
            Ops.AdamWStep(a.Context, [.. Tensors(a, 4), new AdamWTensor(a.F32(4), a.F32(3), a.F32(4), a.F32(4))], new AdamWSettings(1e-3f), 1)),
        WrongContext("adamw_step: m[0] of another context", "m[0]", a =>
            Ops.AdamWStep(a.Context, [new AdamWTensor(a.F32(4), a.F32(4), a.Foreign(4), a.F32(4))], new AdamWSettings(1e-3f), 1)),
        Invalid("adamw_step: negative tensor count", "tensors", a =>
        {
            var p = new NativeMethods.wpm_adamw_params
            {
                struct_size = (nuint)sizeof(NativeMethods.wpm_adamw_params), tensors = -1,
                lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, step = 1,
            };
            Check(NativeMethods.wpm_adamw_step(a.Ctx, &p));
        }),
        Invalid("adamw_step: NULL grads array", "grads", a =>
        {
            nint param = Arena.P(a.F32(4));
            var p = new NativeMethods.wpm_adamw_params
            {
                struct_size = (nuint)sizeof(NativeMethods.wpm_adamw_params), tensors = 1, @params = &param,
                m = &param, v = &param, lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, step = 1,
            };
            Check(NativeMethods.wpm_adamw_step(a.Ctx, &p));
        }),

        Invalid("adamw_step: grad_check of one element", "grad_check", a =>
            Ops.AdamWStep(a.Context, Tensors(a, 4), new AdamWSettings(1e-3f), 1, gradCheck: a.F32(1))),
        WrongDType("adamw_step: i32 grad_check", "grad_check", a =>
        {
            nint param = Arena.P(a.F32(4)), grad = Arena.P(a.F32(4)), m = Arena.P(a.F32(4)), v = Arena.P(a.F32(4));
            var p = new NativeMethods.wpm_adamw_params
            {
                struct_size = (nuint)sizeof(NativeMethods.wpm_adamw_params), tensors = 1, @params = &param, grads = &grad,
                m = &m, v = &v, lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, step = 1,
                grad_check = Arena.P(a.I32(2)),
            };
            Check(NativeMethods.wpm_adamw_step(a.Ctx, &p));
        }),
        Invalid("adamw_step: negative max_grad_norm", "max_grad_norm", a =>
            Ops.AdamWStep(a.Context, Tensors(a, 4), new AdamWSettings(1e-3f) { MaxGradNorm = -1 }, 1, gradCheck: a.F32(2))),
        Invalid("adamw_step: grad_check inside a gradient", "grad_check", a =>
        {
            var grad = a.F32(4);
            Ops.AdamWStep(a.Context, [new AdamWTensor(a.F32(4), grad, a.F32(4), a.F32(4))], new AdamWSettings(1e-3f), 1,
                gradCheck: grad.View(1, 2));
        }),

        // Step metrics: 3 pairs.
        Invalid("pair_metrics: 0 pairs", "pairs", a => Ops.PairMetrics(a.Context, a.F32(6), a.F32(1), 0, a.F32(3))),
        Invalid("pair_metrics: rewards of 2 pairs", "rewards", a => Ops.PairMetrics(a.Context, a.F32(5), a.F32(1), 3, a.F32(3))),
        Invalid("pair_metrics: empty loss", "loss", a => Ops.PairMetrics(a.Context, a.F32(6), a.F32(0), 3, a.F32(3))),
        Invalid("pair_metrics: metrics of 2", "metrics", a => Ops.PairMetrics(a.Context, a.F32(6), a.F32(1), 3, a.F32(2))),
        WrongDType("pair_metrics: f16 rewards", "rewards", a =>
            Check(NativeMethods.wpm_pair_metrics(a.Ctx, Arena.P(a.F16(6)), Arena.P(a.F32(1)), 3, Arena.P(a.F32(3))))),
        WrongContext("pair_metrics: metrics of another context", "metrics", a =>
            Ops.PairMetrics(a.Context, a.F32(6), a.F32(1), 3, a.Foreign(3))),
        Invalid("pair_metrics: metrics over the rewards", "metrics", a =>
        {
            var rewards = a.F32(6);
            Ops.PairMetrics(a.Context, rewards, a.F32(1), 3, rewards.View(3, 3));
        }),

        // Gradient utilities and casts.
        Invalid("global_norm: negative count", "count", a =>
        {
            nint tensor = Arena.P(a.F32(4));
            Check(NativeMethods.wpm_global_norm(a.Ctx, &tensor, -1, Arena.P(a.F32(1))));
        }),
        Invalid("global_norm: NULL tensors array", "tensors", a =>
            Check(NativeMethods.wpm_global_norm(a.Ctx, null, 2, Arena.P(a.F32(1))))),
        WrongDType("global_norm: an i32 tensor", "tensors[1]", a => Ops.GlobalNorm(a.Context, [a.F32(4), a.I32(4)], a.F32(1))),
        Invalid("global_norm: empty out", "out", a => Ops.GlobalNorm(a.Context, [a.F32(4)], a.F32(0))),
        Invalid("scale_check_finite: NaN scale", "scale", a => Ops.ScaleCheckFinite(a.Context, [a.F32(4)], float.NaN, a.F32(1))),
        WrongContext("scale_check_finite: found_inf of another context", "found_inf", a =>
            Ops.ScaleCheckFinite(a.Context, [a.F32(4)], 0.5f, a.Foreign(1))),
        WrongDType("cast: i32 source", "src", a => Ops.Cast(a.Context, a.I32(4), a.F32(4))),
        Invalid("cast: dst too small", "dst", a => Ops.Cast(a.Context, a.F32(4), a.F16(3))),
        Invalid("cast: negative n", "n", a => Ops.Cast(a.Context, a.F32(4), a.F16(4), count: -4)),
    ];

    /// <summary>Pooling parameters of shape B 2, T 3, C 4 with the given lengths and no tensors of either direction.</summary>
    private static NativeMethods.wpm_last_token_pool_params RawLastTokenPool(DeviceBuffer lengths) => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_last_token_pool_params),
        b = 2,
        t = 3,
        c = 4,
        padding = Padding.Right,
        lengths = Arena.P(lengths),
    };

    /// <summary>AdamW tensors of the given sizes with matching gradients and moments.</summary>
    private static List<AdamWTensor> Tensors(Arena a, params int[] counts) =>
        counts.Select(n => new AdamWTensor(a.F32(n), a.F32(n), a.F32(n), a.F32(n))).ToList();

    /// <summary>The head's tensors for d 4, h 4, each a buffer of its own.</summary>
    private static PreferenceHeadWeights<float> HeadWeights(Arena a) =>
        new(a.F32(4), a.F32(16), a.F32(4), a.F32(4), a.F32(1));
}
