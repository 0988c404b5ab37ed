namespace WorldPM.Scaling;

/// <summary>A percentile interval of a fitted value over bootstrap refits (NaN bounds when no refit succeeded).</summary>
public sealed record ConfidenceInterval(double Lower, double Upper)
{
    /// <summary>The <paramref name="level"/> (e.g. 0.95) central percentile interval of <paramref name="samples"/>.</summary>
    public static ConfidenceInterval Of(IEnumerable<double> samples, double level)
    {
        double[] sorted = samples.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0) return new ConfidenceInterval(double.NaN, double.NaN);
        double tail = (1 - level) / 2;
        return new ConfidenceInterval(Percentile(sorted, tail), Percentile(sorted, 1 - tail));
    }

    /// <summary>Linear interpolation between order statistics; <paramref name="sorted"/> is ascending and not empty.</summary>
    private static double Percentile(double[] sorted, double p)
    {
        double position = p * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
