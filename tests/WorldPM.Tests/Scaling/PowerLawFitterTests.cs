using WorldPM.Scaling;

namespace WorldPM.Tests.Scaling;

public class PowerLawFitterTests
{
    // A curve of the shape sweeps give: loss falling from about 2.5 towards a floor of 0.45 over six decades of compute.
    private static readonly PowerLaw Truth = new(A: 300, B: 0.3, C: 0.45);

    /// <summary>30 points log-spaced over 1e6..1e12, each loss multiplied by exp(ε), ε ~ N(0, σ²) from a fixed seed.</summary>
    private static (double[] X, double[] Loss) Synthetic(double sigma, int seed = 11, int count = 30)
    {
        var random = new Random(seed);
        double[] x = Enumerable.Range(0, count).Select(i => Math.Pow(10, 6 + 6.0 * i / (count - 1))).ToArray();
        double[] loss = x.Select(v =>
        {
            // Box–Muller: a standard normal from two uniforms.
            double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return Truth.At(v) * Math.Exp(sigma * normal);
        }).ToArray();
        return (x, loss);
    }

    [Test]
    public void ExactPointsGiveBackTheCurve()
    {
        var (x, loss) = Synthetic(sigma: 0);
        PowerLawFit fit = PowerLawFitter.Fit(x, loss, bootstrapSamples: 0);
        Assert.That(fit.Curve.A, Is.EqualTo(Truth.A).Within(1e-4).Percent);
        Assert.That(fit.Curve.B, Is.EqualTo(Truth.B).Within(1e-4).Percent);
        Assert.That(fit.Curve.C, Is.EqualTo(Truth.C).Within(1e-4).Percent);
        Assert.That(fit.R2, Is.EqualTo(1).Within(1e-9));
    }

    [Test]
    public void NoisyPointsGiveABAndCWithinFivePercentAndIntervalsAroundThem()
    {
        // 0.5 % noise: over seeds 1..30 the worst of a, b and c is 3.1 % off, so 5 % does not hinge on this seed.
        var (x, loss) = Synthetic(sigma: 0.005);
        PowerLawFit fit = PowerLawFitter.Fit(x, loss, bootstrapSamples: 300, seed: 3);
        Assert.That(fit.Curve.A, Is.EqualTo(Truth.A).Within(5).Percent);
        Assert.That(fit.Curve.B, Is.EqualTo(Truth.B).Within(5).Percent);
        Assert.That(fit.Curve.C, Is.EqualTo(Truth.C).Within(5).Percent);
        Assert.That(fit.R2, Is.GreaterThan(0.99));
        Assert.That(fit.Bootstrap, Has.Count.GreaterThan(290), "resamples of 30 distinct points almost always fit");
        Assert.Multiple(() =>
        {
            // Each interval holds its estimate, and is not so narrow that the truth lies more than a width beyond it.
            foreach (var (name, estimate, truth, interval) in new[]
            {
                ("a", fit.Curve.A, Truth.A, fit.AInterval), ("b", fit.Curve.B, Truth.B, fit.BInterval), ("c", fit.Curve.C, Truth.C, fit.CInterval),
            })
            {
                double width = interval.Upper - interval.Lower;
                Assert.That(estimate, Is.InRange(interval.Lower, interval.Upper), name);
                Assert.That(truth, Is.InRange(interval.Lower - width, interval.Upper + width), name);
            }
        });
        ConfidenceInterval band = fit.BandAt(1e9);
        Assert.That(fit.Curve.At(1e9), Is.InRange(band.Lower, band.Upper));
        Assert.That(Truth.At(1e9), Is.EqualTo(fit.Curve.At(1e9)).Within(1).Percent);
        Assert.That(band.Upper - band.Lower, Is.LessThan(0.02 * Truth.At(1e9)), "0.5 % noise on 30 points pins the curve down");
    }

    [Test]
    public void WeightsFavourThePointsTheyTrust()
    {
        // Half the points sit 20 % too high; weighted a million times less, they barely move the fit.
        var (x, loss) = Synthetic(sigma: 0);
        double[] weights = x.Select((_, i) => i % 2 == 0 ? 1.0 : 1e-6).ToArray();
        double[] spoiled = loss.Select((l, i) => i % 2 == 0 ? l : l * 1.2).ToArray();
        PowerLawFit weighted = PowerLawFitter.Fit(x, spoiled, weights, bootstrapSamples: 0);
        PowerLawFit plain = PowerLawFitter.Fit(x, spoiled, bootstrapSamples: 0);
        Assert.That(weighted.Curve.B, Is.EqualTo(Truth.B).Within(0.1).Percent);
        Assert.That(weighted.Curve.C, Is.EqualTo(Truth.C).Within(0.1).Percent);
        Assert.That(Math.Abs(plain.Curve.C - Truth.C), Is.GreaterThan(0.01), "unweighted, the spoiled half pulls the floor up");
    }

    [Test]
    public void TheSameSeedGivesTheSameIntervalsAndAnotherSeedOthers()
    {
        var (x, loss) = Synthetic(sigma: 0.02);
        PowerLawFit first = PowerLawFitter.Fit(x, loss, bootstrapSamples: 100, seed: 5);
        PowerLawFit again = PowerLawFitter.Fit(x, loss, bootstrapSamples: 100, seed: 5);
        PowerLawFit other = PowerLawFitter.Fit(x, loss, bootstrapSamples: 100, seed: 6);
        Assert.That(again.BInterval, Is.EqualTo(first.BInterval));
        Assert.That(again.Bootstrap, Is.EqualTo(first.Bootstrap));
        Assert.That(other.BInterval, Is.Not.EqualTo(first.BInterval));
    }

    [Test]
    public void RisingPointsGiveNoTrendNamingTheAxisAndB()
    {
        // L = 0.2·N^(+0.3) + 0.5 is a·x^(-b) + c with b = −0.3: the loss rises with size, as the sweep's parameter fit
        // did on 4 noisy points. The curve is exactly representable, so the best fit is the generating one, b = −0.3.
        var rising = new PowerLaw(A: 0.2, B: -0.3, C: 0.5);
        double[] x = [1e3, 1e4, 1e5, 1e6, 1e7];
        double[] loss = x.Select(rising.At).ToArray();
        var e = Assert.Throws<NoTrendException>(() =>
            PowerLawFitter.Fit(x, loss, bootstrapSamples: 50, xName: "non_embedding_parameters", lossName: "held-out loss"));
        Assert.That(e!.Message, Is.EqualTo("held-out loss does not fall with non_embedding_parameters: the best fit has b = -0.3, and a falling trend needs b > 0"));
        Assert.That(e.BestFit.B, Is.EqualTo(rising.B).Within(1e-4).Percent);
        Assert.That(e, Is.InstanceOf<InvalidOperationException>(), "callers that record the fitter's other failures record this one alike");
    }

    [Test]
    public void FlatPointsGiveNoTrendNamingTheAxisAndB()
    {
        // Every loss ln 2 (a model at chance): nothing falls, whatever sign rounding gives the exponent of the best fit
        // (the reason is then either "b = 0 or less" or "the line through the points is flat", naming b either way).
        double[] x = [1e6, 1e7, 1e8, 1e9, 1e10];
        double[] loss = x.Select(_ => Math.Log(2)).ToArray();
        var e = Assert.Throws<NoTrendException>(() => PowerLawFitter.Fit(x, loss, bootstrapSamples: 0, xName: "flops"));
        Assert.That(e!.Message, Does.StartWith("the loss does not fall with flops: "));
        Assert.That(e.Message, Does.Match(@"b = -?[0-9][0-9.E+-]*"), "names the best fit's b");
        // Equal losses are fitted exactly by a flat curve: b (or the fall a·x^(-b) adds across the points) is nothing.
        Assert.That(Math.Abs(e.BestFit.At(x[0]) - e.BestFit.At(x[^1])), Is.LessThan(1e-12));
    }

    [Test]
    public void BootstrapRefitsWithoutATrendAreCountedAndLeftOutOfTheIntervals()
    {
        // Eight noisy points that fall only on the whole (0.69 to 0.665, up and down on the way): resamples of them
        // often rise, and those refits are counted instead of stretching b's interval below 0.
        double[] x = Enumerable.Range(6, 8).Select(e => Math.Pow(10, e)).ToArray();
        double[] loss = [0.69, 0.66, 0.70, 0.67, 0.68, 0.66, 0.69, 0.665];
        PowerLawFit fit = PowerLawFitter.Fit(x, loss, bootstrapSamples: 200, seed: 2);
        Assert.That(fit.Curve.B, Is.GreaterThan(0));
        Assert.That(fit.BootstrapWithoutTrend, Is.GreaterThan(0), "some resamples of these points rise");
        Assert.That(fit.Bootstrap.All(refit => refit.B > 0), "no refit without a trend is in the intervals");
        Assert.That(fit.BInterval.Lower, Is.GreaterThan(0));
        Assert.That(fit.Bootstrap.Count + fit.BootstrapWithoutTrend, Is.LessThanOrEqualTo(200));
        Assert.That(fit.ShareWithoutTrend, Is.EqualTo((double)fit.BootstrapWithoutTrend / (fit.Bootstrap.Count + fit.BootstrapWithoutTrend)));
    }

    [Test]
    public void TooFewPointsAreRefusedNamingTheCount()
    {
        var e = Assert.Throws<ArgumentException>(() => PowerLawFitter.Fit([1e6, 1e7, 1e8], [1.0, 0.9, 0.8]));
        Assert.That(e!.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("at least 4 points, and there are 3"));
    }

    [Test]
    public void TwoDistinctComputeValuesAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => PowerLawFitter.Fit([1e6, 1e6, 1e7, 1e7], [1.0, 0.95, 0.8, 0.82]));
        Assert.That(e!.ParamName, Is.EqualTo("x"));
        Assert.That(e.Message, Does.Contain("2 distinct x values"));
    }

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(0.0)]
    [TestCase(-0.5)]
    public void ALossThatIsNotFiniteAndPositiveIsNamedWithItsIndex(double bad)
    {
        var e = Assert.Throws<ArgumentException>(() => PowerLawFitter.Fit([1e6, 1e7, 1e8, 1e9], [1.0, 0.9, bad, 0.7]));
        Assert.That(e!.ParamName, Is.EqualTo("loss"));
        Assert.That(e.Message, Does.StartWith("loss[2] is "));
    }

    [Test]
    public void MismatchedLengthsAndBadWeightsAreNamed()
    {
        var lengths = Assert.Throws<ArgumentException>(() => PowerLawFitter.Fit([1e6, 1e7, 1e8, 1e9], [1.0, 0.9, 0.8]));
        Assert.That(lengths!.ParamName, Is.EqualTo("loss"));
        var weights = Assert.Throws<ArgumentException>(() => PowerLawFitter.Fit([1e6, 1e7, 1e8, 1e9], [1.0, 0.9, 0.8, 0.7], [1, 1, double.NaN, 1]));
        Assert.That(weights!.ParamName, Is.EqualTo("weights"));
    }
}
