using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

public static unsafe partial class Ops
{
    /// <summary>
    /// output[b, :] = hidden[b, s_b, :], the hidden state of each sequence's scoring (last valid) token:
    /// s_b = lengths[b] - 1 with right padding, T - 1 with left padding. hidden [B, T, C], lengths [B] in 1..T,
    /// output [B, C].
    /// </summary>
    public static void LastTokenPoolForward<T>(WorldPMContext context, DeviceBuffer<T> hidden,
        DeviceBuffer<int> lengths, DeviceBuffer<T> output, long batch, long tokens, long channels,
        Padding padding = Padding.Right) where T : unmanaged
    {
        using var lease = new HandleLease([context, hidden, lengths, output]);
        var p = LastTokenPoolParams(lengths, batch, tokens, channels, padding);
        p.hidden = Ptr(hidden);
        p.@out = Ptr(output);
        Check(NativeMethods.wpm_last_token_pool_fwd(Ptr(context), &p));
    }

    /// <summary>Writes the whole of dhidden [B, T, C]: dout at the scoring rows, 0 elsewhere.</summary>
    public static void LastTokenPoolBackward<T>(WorldPMContext context, DeviceBuffer<T> dout,
        DeviceBuffer<int> lengths, DeviceBuffer<T> dhidden, long batch, long tokens, long channels,
        Padding padding = Padding.Right) where T : unmanaged
    {
        using var lease = new HandleLease([context, dout, lengths, dhidden]);
        var p = LastTokenPoolParams(lengths, batch, tokens, channels, padding);
        p.dout = Ptr(dout);
        p.dhidden = Ptr(dhidden);
        Check(NativeMethods.wpm_last_token_pool_bwd(Ptr(context), &p));
    }

    /// <summary>The fields the pooling forward and backward share.</summary>
    private static NativeMethods.wpm_last_token_pool_params LastTokenPoolParams(DeviceBuffer<int> lengths, long batch,
        long tokens, long channels, Padding padding) => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_last_token_pool_params),
        b = batch,
        t = tokens,
        c = channels,
        padding = padding,
        lengths = Ptr(lengths),
    };

    /// <summary>
    /// loss[0] = sum_i w_i softplus(-(chosen_i - rejected_i - margin)) / sum_i w_i, the Bradley-Terry loss
    /// -log sigmoid(delta) over P preference pairs (w_i = 1 without weights; weights >= 0 with a positive sum).
    /// </summary>
    public static void BradleyTerryLossForward(WorldPMContext context, DeviceBuffer<float> chosen,
        DeviceBuffer<float> rejected, DeviceBuffer<float> loss, float margin = 0f, DeviceBuffer<float>? weights = null,
        long? pairs = null)
    {
        using var lease = new HandleLease([context, chosen, rejected, weights, loss]);
        var p = BtParams(chosen, rejected, weights, margin, pairs);
        p.loss = Ptr(loss);
        Check(NativeMethods.wpm_bt_loss_fwd(Ptr(context), &p));
    }

    /// <summary>dchosen_i = dloss w_i (sigmoid(delta_i) - 1) / sum w and drejected_i = -dchosen_i.</summary>
    public static void BradleyTerryLossBackward(WorldPMContext context, DeviceBuffer<float> chosen,
        DeviceBuffer<float> rejected, DeviceBuffer<float> dchosen, DeviceBuffer<float> drejected, float dloss = 1f,
        float margin = 0f, DeviceBuffer<float>? weights = null, long? pairs = null)
    {
        using var lease = new HandleLease([context, chosen, rejected, weights, dchosen, drejected]);
        var p = BtParams(chosen, rejected, weights, margin, pairs);
        p.dloss = dloss;
        p.dchosen = Ptr(dchosen);
        p.drejected = Ptr(drejected);
        Check(NativeMethods.wpm_bt_loss_bwd(Ptr(context), &p));
    }

    private static NativeMethods.wpm_bt_loss_params BtParams(DeviceBuffer<float> chosen, DeviceBuffer<float> rejected,
        DeviceBuffer<float>? weights, float margin, long? pairs) => new()
    {
        struct_size = (nuint)sizeof(NativeMethods.wpm_bt_loss_params),
        pairs = pairs ?? chosen?.Count ?? 0,
        margin = margin,
        chosen = Ptr(chosen),
        rejected = Ptr(rejected),
        weights = Ptr(weights),
    };
}
