using WorldPM.Evaluation;

namespace WorldPM.Tests.Evaluation;

/// <summary>The 95 % interval of a pairwise accuracy, against values worked out apart from the code under test.</summary>
public class AccuracyIntervalTests
{
    private const double Z = 1.959963984540054;  // the 0.975 quantile of the standard normal

    /// <summary>
    /// Wilson's bounds as the two roots in p of (p̂ - p)² = z² p (1 - p) / n, a quadratic solved here by the textbook
    /// root formula (the code under test uses the centre-and-half-width form instead).
    /// </summary>
    private static (double Low, double High) QuadraticRoots(double accuracy, int n)
    {
        double a = 1 + Z * Z / n, b = -(2 * accuracy + Z * Z / n), c = accuracy * accuracy;
        double root = Math.Sqrt(b * b - 4 * a * c);
        return ((-b - root) / (2 * a), (-b + root) / (2 * a));
    }

    // Published values: 5 of 10 gives 0.2366 to 0.7634; none of n gives 0 to z²/(n + z²), all of n gives n/(n + z²) to 1
    // (z² = 3.8415: 0.2775 and 0.7225 for n = 10).
    [TestCase(0.5, 10, 0.2366, 0.7634)]
    [TestCase(0.0, 10, 0.0, 0.2775)]
    [TestCase(1.0, 10, 0.7225, 1.0)]
    public void MatchesTableValues(double accuracy, int pairs, double low, double high)
    {
        var interval = AccuracyInterval.Of(accuracy, pairs);

        Assert.That((interval.Low, interval.High), Is.EqualTo((low, high)).Within(5e-5));
    }

    [Test]
    public void MatchesTheQuadraticRootsOverAGrid()
    {
        foreach (int n in new[] { 1, 2, 7, 46, 234, 2052, 100_000 })
        {
            for (int right = 0; right <= n; right += Math.Max(1, n / 13))
            {
                double accuracy = (double)right / n;
                var (low, high) = QuadraticRoots(accuracy, n);
                var interval = AccuracyInterval.Of(accuracy, n);
                Assert.That(interval.Low, Is.EqualTo(Math.Max(0, low)).Within(1e-12), $"{right}/{n} low");
                Assert.That(interval.High, Is.EqualTo(Math.Min(1, high)).Within(1e-12), $"{right}/{n} high");
            }
        }
    }

    [TestCase(0.52, 234, true, TestName = "52 % of 234 held-out pairs is within noise of chance")]
    [TestCase(0.60, 1000, false, TestName = "60 % of 1000 is above chance")]
    [TestCase(0.40, 1000, false, TestName = "40 % of 1000 is below chance")]
    [TestCase(0.70, 10, true, TestName = "70 % of 10 is within noise of chance")]
    public void SaysWhetherChanceIsInside(double accuracy, int pairs, bool within)
    {
        var interval = AccuracyInterval.Of(accuracy, pairs);

        Assert.That(interval.ContainsChance, Is.EqualTo(within), $"{interval}");
        var (low, high) = QuadraticRoots(accuracy, pairs);
        Assert.That(low <= 0.5 && 0.5 <= high, Is.EqualTo(within), "the independent bounds agree");
    }

    [Test]
    public void NoPairsGiveNoInterval()
    {
        var interval = AccuracyInterval.Of(PairwiseMetrics.FromDeltas([]));

        Assert.That((interval.IsKnown, interval.ContainsChance, double.IsNaN(interval.Low)), Is.EqualTo((false, false, true)));
    }
}
