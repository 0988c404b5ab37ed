using System.Runtime.InteropServices;

namespace WorldPM.Native.Interop;

/// <summary>The reward head and the optimizer: pooling, Bradley-Terry loss, AdamW, gradient utilities, casts.</summary>
internal static unsafe partial class NativeMethods
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_last_token_pool_params
    {
        public nuint struct_size;
        public long b, t, c;
        public Padding padding;
        public nint lengths;
        public nint hidden;
        public nint @out;
        public nint dout;
        public nint dhidden;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_bt_loss_params
    {
        public nuint struct_size;
        public long pairs;
        public float margin;
        public nint chosen;
        public nint rejected;
        public nint weights;
        public nint loss;
        public float dloss;
        public nint dchosen;
        public nint drejected;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_preference_head_params
    {
        public nuint struct_size;
        public long b, d, h;
        public PreferenceHeadActivation activation;
        public float eps;
        public long pairs;
        public float margin;
        public nint x;
        public nint norm_weight;
        public nint w1;
        public nint b1;
        public nint w2;
        public nint b2;
        public nint weights;
        public nint rewards;
        public nint saved;
        public nint loss;
        public float dloss;
        public nint drewards;
        public nint dx;
        public nint dnorm_weight;
        public nint dw1;
        public nint db1;
        public nint dw2;
        public nint db2;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct wpm_adamw_params
    {
        public nuint struct_size;
        public long tensors;
        public nint* @params;
        public nint* grads;
        public nint* m;
        public nint* v;
        public nint* working;
        public int* decay;
        public float lr, beta1, beta2, eps, weight_decay;
        public float grad_scale;
        public long step;
        public nint grad_check;
        public float max_grad_norm;
        public nint step_values;
    }

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_last_token_pool_fwd(nint context, wpm_last_token_pool_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_last_token_pool_bwd(nint context, wpm_last_token_pool_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_bt_loss_fwd(nint context, wpm_bt_loss_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_bt_loss_bwd(nint context, wpm_bt_loss_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_preference_head_fwd(nint context, wpm_preference_head_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_preference_head_bwd(nint context, wpm_preference_head_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_adamw_step(nint context, wpm_adamw_params* @params);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_global_norm(nint context, nint* tensors, long count, nint @out);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_scale_check_finite(nint context, nint* tensors, long count,
        float scale, nint found_inf);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_pair_metrics(nint context, nint rewards, nint loss, long pairs,
        nint metrics);

    [LibraryImport(Library)]
    internal static partial WorldPMStatus wpm_cast(nint context, nint src, nint dst, long n);
}
