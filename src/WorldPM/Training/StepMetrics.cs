namespace WorldPM.Training;

/// <summary>What one optimizer step did. A large <see cref="GradNorm"/> is logged, never treated as failure.</summary>
/// <param name="Step">1-based optimizer step.</param>
/// <param name="Loss">Mean Bradley-Terry loss over the step's pairs (before the update).</param>
/// <param name="Accuracy">Fraction of pairs with r(chosen) &gt; r(rejected).</param>
/// <param name="Margin">Mean r(chosen) - r(rejected).</param>
/// <param name="GradNorm">Global L2 norm of the (unscaled) gradient before clipping; not finite on a skipped step.</param>
/// <param name="LearningRate">The learning rate of this step (the schedule advances on skipped steps too).</param>
/// <param name="Tokens">Real (non-padding) tokens processed.</param>
/// <param name="Seconds">Wall time of the step.</param>
public sealed record StepMetrics(long Step, double Loss, double Accuracy, double Margin, double GradNorm,
    double LearningRate, long Tokens, double Seconds)
{
    public double TokensPerSecond => Seconds > 0 ? Tokens / Seconds : 0;

    /// <summary>The loss scale this step's gradients were computed with (1 unless the model is fp16).</summary>
    public double LossScale { get; init; } = 1;

    /// <summary>Times the host waited for the device during the step (<see cref="Native.DeviceCounters.HostWaits"/>) on a
    /// device backend (cuda, emu); null on cpu, which queues nothing.</summary>
    public long? HostWaits { get; init; }

    /// <summary>True when a gradient was inf or NaN and the update was skipped: weights and optimizer state are
    /// untouched (an fp16 loss-scale overflow, which also lowers the scale).</summary>
    public bool Skipped { get; init; }
}
