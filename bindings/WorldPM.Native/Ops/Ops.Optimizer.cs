using System.Runtime.InteropServices;
using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

/// <summary>One parameter tensor of an AdamW step and its state.</summary>
/// <param name="Parameter">fp32 master weights, updated in place.</param>
/// <param name="Gradient">Its gradient: f32, f16 or bf16, the same count.</param>
/// <param name="M">fp32 first moment.</param>
/// <param name="V">fp32 second moment.</param>
public sealed record AdamWTensor(DeviceBuffer<float> Parameter, DeviceBuffer Gradient, DeviceBuffer<float> M,
    DeviceBuffer<float> V)
{
    /// <summary>An f16/bf16 (or f32) working copy that receives the updated weights in the same pass, or null.</summary>
    public DeviceBuffer? Working { get; init; }

    /// <summary>Whether weight decay applies (false for norms and biases, by convention).</summary>
    public bool Decay { get; init; } = true;
}

/// <summary>AdamW hyperparameters.</summary>
/// <param name="LearningRate">lr.</param>
public sealed record AdamWSettings(float LearningRate)
{
    /// <summary>First-moment decay.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Second-moment decay.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>Decoupled weight decay, for tensors with <see cref="AdamWTensor.Decay"/>.</summary>
    public float WeightDecay { get; init; }

    /// <summary>Gradients are multiplied by this first: loss-scale unscaling and clipping in one (0 means 1).</summary>
    public float GradScale { get; init; } = 1f;

    /// <summary>With a gradient check (<see cref="Ops.AdamWStep"/>): the norm the unscaled gradients are clipped
    /// to on the device (0: no clipping).</summary>
    public float MaxGradNorm { get; init; }
}

public static unsafe partial class Ops
{
    /// <summary>
    /// One fused multi-tensor AdamW step (bias-corrected with the 1-based <paramref name="step"/>):
    /// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m^ / (sqrt(v^) + eps) + wd p), g = grad * GradScale.
    /// <para>gradCheck: null, or f32 [2] on the device, {inf/NaN flag, norm of the gradients as stored}
    /// (<see cref="ScaleCheckFinite"/>, <see cref="GlobalNorm"/>), read by the step on the device: a nonzero flag
    /// skips it (nothing changes); otherwise the gradients are clipped to <see cref="AdamWSettings.MaxGradNorm"/>
    /// after <see cref="AdamWSettings.GradScale"/>, with the factor MaxGradNorm / (norm * GradScale + 1e-6) where the
    /// unscaled norm exceeds it. The host never waits for the norm.</para>
    /// <para>stepValues: null, or the learning rate and bias corrections in device memory, read by the step in place
    /// of <see cref="AdamWSettings.LearningRate"/> and <paramref name="step"/> (neither is then used): a step recorded
    /// into a <see cref="DeviceGraph"/> takes the values written before each replay.</para>
    /// </summary>
    public static void AdamWStep(WorldPMContext context, IReadOnlyList<AdamWTensor> tensors, AdamWSettings settings,
        long step, DeviceBuffer<float>? gradCheck = null, AdamWStepValues? stepValues = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(settings);
        int n = tensors.Count;
        var owners = new List<INativeObject?>(3 + 5 * n) { context, gradCheck, stepValues?.Buffer };
        foreach (AdamWTensor t in tensors) owners.AddRange([t.Parameter, t.Gradient, t.M, t.V, t.Working]);
        using var lease = new HandleLease(CollectionsMarshal.AsSpan(owners));
        nint[] parameters = [.. tensors.Select(t => Ptr(t.Parameter))];
        nint[] grads = [.. tensors.Select(t => Ptr(t.Gradient))];
        nint[] m = [.. tensors.Select(t => Ptr(t.M))];
        nint[] v = [.. tensors.Select(t => Ptr(t.V))];
        nint[] working = [.. tensors.Select(t => Ptr(t.Working))];
        int[] decay = [.. tensors.Select(t => t.Decay ? 1 : 0)];
        fixed (nint* pp = parameters, pg = grads, pm = m, pv = v, pw = working)
        fixed (int* pd = decay)
        {
            var p = new NativeMethods.wpm_adamw_params
            {
                struct_size = (nuint)sizeof(NativeMethods.wpm_adamw_params),
                tensors = n,
                @params = pp,
                grads = pg,
                m = pm,
                v = pv,
                working = pw,
                decay = pd,
                lr = settings.LearningRate,
                beta1 = settings.Beta1,
                beta2 = settings.Beta2,
                eps = settings.Epsilon,
                weight_decay = settings.WeightDecay,
                grad_scale = settings.GradScale,
                step = step,
                grad_check = Ptr(gradCheck),
                max_grad_norm = settings.MaxGradNorm,
                step_values = Ptr(stepValues?.Buffer),
            };
            Check(NativeMethods.wpm_adamw_step(Ptr(context), &p));
        }
    }

    /// <summary>output[0] = the L2 norm over all elements of all tensors (f32/f16/bf16); deterministic for a
    /// thread count.</summary>
    public static void GlobalNorm(WorldPMContext context, IReadOnlyList<DeviceBuffer> tensors,
        DeviceBuffer<float> output)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var lease = new HandleLease([context, output, .. tensors]);
        nint[] pointers = [.. tensors.Select(t => Ptr(t))];
        fixed (nint* p = pointers)
            Check(NativeMethods.wpm_global_norm(Ptr(context), p, pointers.Length, Ptr(output)));
    }

    /// <summary>Multiplies every tensor by <paramref name="scale"/> in place; foundInf[0] = 1 if any element is then
    /// inf or NaN, else 0 (the unscale-and-check of dynamic loss scaling).</summary>
    public static void ScaleCheckFinite(WorldPMContext context, IReadOnlyList<DeviceBuffer> tensors, float scale,
        DeviceBuffer<float> foundInf)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var lease = new HandleLease([context, foundInf, .. tensors]);
        nint[] pointers = [.. tensors.Select(t => Ptr(t))];
        fixed (nint* p = pointers)
            Check(NativeMethods.wpm_scale_check_finite(Ptr(context), p, pointers.Length, scale, Ptr(foundInf)));
    }

    /// <summary>dst = src converted between f32, f16 and bf16 (round to nearest even). The backward of a cast
    /// is the cast the other way.</summary>
    public static void Cast<TSource, TTarget>(WorldPMContext context, DeviceBuffer<TSource> source,
        DeviceBuffer<TTarget> target, long? count = null) where TSource : unmanaged where TTarget : unmanaged
    {
        using var lease = new HandleLease([context, source, target]);
        Check(NativeMethods.wpm_cast(Ptr(context), Ptr(source), Ptr(target), count ?? source?.Count ?? 0));
    }
}
