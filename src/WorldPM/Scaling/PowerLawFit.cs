namespace WorldPM.Scaling;

/// <summary>
/// A power law fitted to measured points (<see cref="PowerLawFitter"/>): the curve, how well it explains the points in
/// log space, and bootstrap percentile intervals of a, b and c.
/// </summary>
/// <param name="Curve">The least-squares fit to all the points.</param>
/// <param name="R2">1 − weighted residual sum of squares / weighted total sum of squares, both of ln L.</param>
/// <param name="Points">How many points were fitted.</param>
/// <param name="Bootstrap">The refits of the resampled points that succeeded and show a falling trend (b &gt; 0), in the
/// order they were drawn: the intervals are over these.</param>
/// <param name="BootstrapSamples">How many resamples were drawn (the ones that could not be fitted, such as a resample
/// with fewer than three distinct x, and the ones without a trend are left out of <paramref name="Bootstrap"/>).</param>
/// <param name="Seed">The seed of the resampling: the same points and seed give the same intervals.</param>
/// <param name="Level">The central probability of the intervals (0.95: the 2.5th to 97.5th percentile).</param>
/// <param name="BootstrapWithoutTrend">Refits that converged but show no falling trend (b ≤ 0, or resampled points
/// that do not fall): left out of the intervals, which would otherwise stretch over rising curves, and counted here.</param>
public sealed record PowerLawFit(PowerLaw Curve, double R2, int Points, IReadOnlyList<PowerLaw> Bootstrap, int BootstrapSamples,
    int Seed, double Level, int BootstrapWithoutTrend = 0)
{
    /// <summary>Of the refits that converged, the share without a falling trend (NaN when none converged).</summary>
    public double ShareWithoutTrend => Bootstrap.Count + BootstrapWithoutTrend is > 0 and var fitted ? (double)BootstrapWithoutTrend / fitted : double.NaN;

    public ConfidenceInterval AInterval => ConfidenceInterval.Of(Bootstrap.Select(f => f.A), Level);

    public ConfidenceInterval BInterval => ConfidenceInterval.Of(Bootstrap.Select(f => f.B), Level);

    public ConfidenceInterval CInterval => ConfidenceInterval.Of(Bootstrap.Select(f => f.C), Level);

    /// <summary>The percentile band of the bootstrap curves at <paramref name="x"/>.</summary>
    public ConfidenceInterval BandAt(double x) => ConfidenceInterval.Of(Bootstrap.Select(f => f.At(x)), Level);
}
