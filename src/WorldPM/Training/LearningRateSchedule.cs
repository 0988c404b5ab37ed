namespace WorldPM.Training;

/// <summary>How the learning rate moves after warmup.</summary>
public enum DecayKind
{
    /// <summary>Stay at the peak (the WorldPM recipe).</summary>
    Constant,

    /// <summary>Half a cosine from the peak down to <see cref="LearningRateSchedule.MinRatio"/> of it at the last step.</summary>
    Cosine,
}

/// <summary>
/// Linear warmup from 0 to <paramref name="Peak"/> over <paramref name="WarmupSteps"/> optimizer steps, then
/// constant or cosine decay until <paramref name="TotalSteps"/>. Steps are 1-based, as in AdamW.
/// </summary>
public sealed record LearningRateSchedule(double Peak, long WarmupSteps, long TotalSteps, DecayKind Decay = DecayKind.Constant)
{
    /// <summary>Floor of the cosine decay as a fraction of the peak.</summary>
    public double MinRatio { get; init; }

    /// <summary>The schedule of the WorldPM recipe: 10% warmup, then constant.</summary>
    public static LearningRateSchedule WorldPM(double peak, long totalSteps) =>
        new(peak, Math.Max(1, totalSteps / 10), totalSteps);

    /// <summary>The learning rate of optimizer step <paramref name="step"/> (1-based).</summary>
    public double At(long step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        if (WarmupSteps > 0 && step <= WarmupSteps) return Peak * step / WarmupSteps;
        if (Decay == DecayKind.Constant || TotalSteps <= WarmupSteps) return Peak;
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return Peak * (MinRatio + (1 - MinRatio) * cosine);
    }
}
