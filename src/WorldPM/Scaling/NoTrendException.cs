namespace WorldPM.Scaling;

/// <summary>
/// The points show no falling trend to fit (<see cref="PowerLawFitter"/>): the best L = a·x^(-b) + c has b ≤ 0 (the
/// loss rises with x, or is flat), or the loss does not fall across the points at all. A power law then describes no
/// scaling trend, so the fitter gives this reason instead of a fit. An <see cref="InvalidOperationException"/>, like
/// the fitter's other failures to fit, so a caller that records those records this one alike.
/// </summary>
public sealed class NoTrendException(string message, PowerLaw bestFit) : InvalidOperationException(message)
{
    /// <summary>The least-squares curve that was refused (its b is the one the message names).</summary>
    public PowerLaw BestFit { get; } = bestFit;
}
