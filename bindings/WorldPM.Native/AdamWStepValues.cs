namespace WorldPM.Native;

/// <summary>
/// The learning rate and bias corrections of one AdamW step in device memory (f32 [3]: lr, 1 / (1 - beta1^step),
/// 1 / (1 - beta2^step)), which <see cref="Ops.AdamWStep"/> reads in place of its by-value learning rate and step
/// (wpm_adamw_params.step_values). A step recorded into a <see cref="DeviceGraph"/> reads them at each replay, so the
/// host writes the next step's values (<see cref="Set"/>, a queued upload) before launching it.
/// </summary>
public sealed class AdamWStepValues : IDisposable
{
    /// <summary>Allocates the buffer on <paramref name="context"/>; its contents are undefined until <see cref="Set"/>.</summary>
    public AdamWStepValues(WorldPMContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Buffer = context.Allocate<float>(3);
    }

    /// <summary>f32 [3]: lr, 1 / (1 - beta1^step), 1 / (1 - beta2^step).</summary>
    public DeviceBuffer<float> Buffer { get; }

    /// <summary>Queues the upload of step <paramref name="step"/>'s values (no wait). The bias corrections are formed
    /// in double and rounded to f32, as the native library forms them from a by-value step, so both give the same
    /// bits.</summary>
    public void Set(float learningRate, long step, float beta1, float beta2)
    {
        if (!float.IsFinite(learningRate) || learningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "the learning rate must be finite and not negative");
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        CheckBeta(beta1, nameof(beta1));
        CheckBeta(beta2, nameof(beta2));
        Buffer.CopyFrom([learningRate, InverseBiasCorrection(beta1, step), InverseBiasCorrection(beta2, step)]);
    }

    private static float InverseBiasCorrection(float beta, long step) => (float)(1.0 / (1.0 - Math.Pow(beta, step)));

    private static void CheckBeta(float beta, string name)
    {
        if (!(beta >= 0 && beta < 1)) throw new ArgumentOutOfRangeException(name, beta, "expected 0 <= beta < 1");
    }

    /// <summary>Frees the buffer.</summary>
    public void Dispose() => Buffer.Dispose();
}
