namespace WorldPM.Scaling;

/// <summary>
/// A power law fitted to measured points (<see cref="PowerLawFitter"/>): the curve, how well it explains the points in
/// log space, and bootstrap percentile intervals of a, b and c.
/// </summary>
/// <param name="Curve">The least-squares fit to all the points.</param>
/// <param name="R2">1 − weighted residual sum of squares / weighted total sum of squares, both of ln L.</param>
/// <param name="Points">How many points were fitted.</param>
/// <param name="Bootstrap">The refits of the resampled points that succeeded, in the order they were drawn.</param>
/// <param name="BootstrapSamples">How many resamples were drawn (the ones that could not be fitted, such as a resample
/// with fewer than three distinct x, are left out of <paramref name="Bootstrap"/>).</param>
/// <param name="Seed">The seed of the resampling: the same points and seed give the same intervals.</param>
/// <param name="Level">The central probability of the intervals (0.95: the 2.5th to 97.5th percentile).</param>
public sealed record PowerLawFit(PowerLaw Curve, double R2, int Points, IReadOnlyList<PowerLaw> Bootstrap, int BootstrapSamples,
    int Seed, double Level)
{
    public ConfidenceInterval AInterval => ConfidenceInterval.Of(Bootstrap.Select(f => f.A), Level);

    public ConfidenceInterval BInterval => ConfidenceInterval.Of(Bootstrap.Select(f => f.B), Level);

    public ConfidenceInterval CInterval => ConfidenceInterval.Of(Bootstrap.Select(f => f.C), Level);

    /// <summary>The percentile band of the bootstrap curves at <paramref name="x"/>.</summary>
    public ConfidenceInterval BandAt(double x) => ConfidenceInterval.Of(Bootstrap.Select(f => f.At(x)), Level);
}
