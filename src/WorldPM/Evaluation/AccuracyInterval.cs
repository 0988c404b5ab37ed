namespace WorldPM.Evaluation;

/// <summary>
/// A 95 % confidence interval for a pairwise accuracy measured on a number of pairs: Wilson's score interval for a
/// binomial proportion, which stays inside [0, 1] and keeps its coverage near 0 and 1 and on small sets, where the
/// normal approximation does not. An accuracy whose interval holds 50 % cannot be told from a coin flip on that many
/// pairs.
/// </summary>
public readonly record struct AccuracyInterval(double Low, double High)
{
    /// <summary>The standard normal quantile of 0.975: a two-sided 95 % interval.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>The accuracy of a model that guesses.</summary>
    public const double Chance = 0.5;

    /// <summary>
    /// The interval around <paramref name="accuracy"/> measured on <paramref name="pairs"/> pairs (ties counted as half
    /// right, as <see cref="PairwiseMetrics"/> does, give a fractional count of right pairs, which the formula takes as
    /// it is); NaN bounds when there are no pairs or the accuracy is not a number.
    /// </summary>
    public static AccuracyInterval Of(double accuracy, int pairs)
    {
        if (pairs <= 0 || !(accuracy >= 0 && accuracy <= 1)) return new AccuracyInterval(double.NaN, double.NaN);
        double n = pairs, z2 = Z95 * Z95;
        double shrink = 1 + z2 / n;
        double centre = (accuracy + z2 / (2 * n)) / shrink;
        double half = Z95 / shrink * Math.Sqrt(accuracy * (1 - accuracy) / n + z2 / (4 * n * n));
        return new AccuracyInterval(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>The interval of <paramref name="metrics"/>' accuracy.</summary>
    public static AccuracyInterval Of(PairwiseMetrics metrics) => Of(metrics.Accuracy, metrics.Pairs);

    /// <summary>Whether the interval is a number at all (there were pairs).</summary>
    public bool IsKnown => double.IsFinite(Low) && double.IsFinite(High);

    /// <summary>Whether 50 % lies inside the interval: the accuracy is within noise of chance.</summary>
    public bool ContainsChance => IsKnown && Low <= Chance && Chance <= High;
}
