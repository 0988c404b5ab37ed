namespace WorldPM.Explain;

/// <summary>
/// The axiom a method's attributions should satisfy, measured: their <see cref="Sum"/> against
/// <see cref="Expected"/>, reward(input) - reward(baseline) (integrated gradients' completeness, Shapley values'
/// efficiency), and for a sampling estimate the standard error of the sum.
/// </summary>
public sealed record AttributionCheck(string Name, double Sum, double Expected, double BaselineReward, double? StandardError)
{
    /// <summary>|Sum - Expected|.</summary>
    public double AbsoluteError => Math.Abs(Sum - Expected);

    /// <summary>|Sum - Expected| / |Expected| (infinite when Expected is 0 and the sum is not).</summary>
    public double RelativeError => AbsoluteError == 0 ? 0 : AbsoluteError / Math.Abs(Expected);
}
