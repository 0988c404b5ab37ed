namespace WorldPM.Native.Tests.Support;

/// <summary>Float64 references of the ops and the comparison rule of docs/numerics.md, "How results are compared".</summary>
internal static class Reference
{
    /// <summary>||actual - expected|| / ||expected||; NaN anywhere gives +inf, so NaN never passes.</summary>
    internal static double RelativeError(IReadOnlyList<float> actual, IReadOnlyList<double> expected)
    {
        Assert.That(actual, Has.Count.EqualTo(expected.Count), "element count");
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            if (double.IsNaN(actual[i])) return double.PositiveInfinity;
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
        }
        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    /// <summary>Deterministic inputs that are fresh per test (the seed) and never all zeros.</summary>
    internal static float[] Random(int seed, int count, double low = -3, double high = 3)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(low + (high - low) * random.NextDouble());
        return values;
    }

    internal static double GeluTanh(double x) =>
        0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    internal static double GeluTanhGrad(double x)
    {
        double k = Math.Sqrt(2 / Math.PI);
        double u = k * (x + 0.044715 * x * x * x);
        double t = Math.Tanh(u);
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
    }

    internal static double GeluExact(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    internal static double GeluExactGrad(double x) =>
        0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    internal static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    internal static double Silu(double x) => x * Sigmoid(x);

    /// <summary>log(1 + e^x) without overflow.</summary>
    internal static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    /// <summary>erf to double precision: Abramowitz-Stegun 7.1.26 is too coarse, so the Maclaurin series near 0
    /// and the continued fraction of erfc further out.</summary>
    internal static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (a < 2.5)
        {
            double sum = 0, term = a;
            for (int n = 0; n < 200; n++)
            {
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
                term *= -a * a / (n + 1);
            }
            return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
        }
        // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + 1/2/(a + 1/(a + 3/2/(a + 2/(a + ...))))), evaluated backwards.
        double f = a;
        for (int n = 60; n >= 1; n--) f = a + n / 2.0 / f;
        double erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        return Math.Sign(x) * (1 - erfc);
    }
}
