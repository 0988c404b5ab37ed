using WorldPM.Checkpoints;

namespace WorldPM.Training;

/// <summary>
/// Dynamic loss scaling for fp16 training. The loss gradient is multiplied by <see cref="Scale"/> so that small
/// gradients survive in fp16; when a step's gradients come out non-finite the step is skipped and the scale
/// halves, and after <see cref="GrowthInterval"/> finite steps in a row it doubles. A static scaler (fp32, bf16:
/// their exponent range needs no scaling) keeps the scale at 1 and only counts. The state is two numbers, saved
/// with the training state so a resumed run continues exactly.
/// </summary>
public sealed class LossScaler
{
    /// <summary>The scale never falls below this, so 1 / scale stays finite.</summary>
    public const float MinScale = 1f / (1 << 24);

    private const string ScaleKey = "loss_scaler.scale";
    private const string CleanStepsKey = "loss_scaler.clean_steps";

    /// <summary>A dynamic scaler starting at <paramref name="initialScale"/>, or a static one at 1.</summary>
    public LossScaler(bool dynamic, float initialScale = 65536f, long growthInterval = 2000)
    {
        if (!(float.IsFinite(initialScale) && initialScale >= MinScale))
            throw new ArgumentOutOfRangeException(nameof(initialScale), initialScale, $"the initial loss scale must be finite and >= {MinScale}");
        ArgumentOutOfRangeException.ThrowIfLessThan(growthInterval, 1);
        Dynamic = dynamic;
        Scale = dynamic ? initialScale : 1f;
        GrowthInterval = growthInterval;
    }

    /// <summary>Whether the scale adapts (fp16) or stays 1.</summary>
    public bool Dynamic { get; }

    /// <summary>The factor on the loss gradient of the next step.</summary>
    public float Scale { get; private set; }

    /// <summary>Finite steps since the scale last changed (or since the last overflow).</summary>
    public long CleanSteps { get; private set; }

    /// <summary>Finite steps in a row after which the scale doubles.</summary>
    public long GrowthInterval { get; }

    /// <summary>Records a step: an overflow halves the scale (down to <see cref="MinScale"/>) and restarts the count;
    /// a finite step counts, and the <see cref="GrowthInterval"/>-th doubles the scale (while that stays finite).</summary>
    public void Update(bool overflow)
    {
        if (overflow)
        {
            if (Dynamic) Scale = Math.Max(Scale / 2, MinScale);
            CleanSteps = 0;
            return;
        }
        CleanSteps++;
        if (Dynamic && CleanSteps >= GrowthInterval && float.IsFinite(Scale * 2))
        {
            Scale *= 2;
            CleanSteps = 0;
        }
    }

    /// <summary>Writes the scale and the count into <paramref name="scalars"/> (the scale's exact bits).</summary>
    public void Save(TrainingScalars scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        scalars.SetDouble(ScaleKey, Scale);
        scalars.SetInt64(CleanStepsKey, CleanSteps);
    }

    /// <summary>Restores what <see cref="Save"/> wrote; a state without it (an older checkpoint) keeps the current
    /// values.</summary>
    public void Restore(TrainingScalars scalars)
    {
        ArgumentNullException.ThrowIfNull(scalars);
        if (!scalars.Contains(ScaleKey)) return;
        float scale = (float)scalars.GetDouble(ScaleKey);
        if (!(float.IsFinite(scale) && scale >= MinScale))
            throw new InvalidDataException($"the training state's loss scale is {scale}; it must be finite and >= {MinScale}");
        Scale = Dynamic ? scale : 1f;
        CleanSteps = scalars.GetInt64(CleanStepsKey);
    }
}
