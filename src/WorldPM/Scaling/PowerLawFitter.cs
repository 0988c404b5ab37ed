namespace WorldPM.Scaling;

/// <summary>
/// Fits L = a·x^(-b) + c by weighted least squares in log space: it minimises Σ wᵢ (ln Lᵢ − ln(a·xᵢ^(-b) + c))², so a
/// point's relative error counts, not its absolute one (losses near the floor and far above it weigh alike), and x spans
/// orders of magnitude without the large-x points dominating. Levenberg–Marquardt from several starting floors (each
/// start a straight-line fit of ln(L − c₀) against ln x), keeping the best; then the same fit on bootstrap resamples of
/// the points (drawn with a fixed seed, so the intervals are reproducible) for percentile intervals of a, b and c.
/// <para>
/// The curve describes a scaling trend only when the loss falls with x: b &gt; 0. When the best fit has b ≤ 0, or the
/// loss does not fall across the points at all (the weighted straight line through ln L against ln x does not go down
/// from the smallest x to the largest), there is no trend to report and <see cref="Fit"/> throws a
/// <see cref="NoTrendException"/> that names the axis and the best fit's b, rather than returning a curve that rises.
/// A bootstrap refit without a trend by the same test is counted (<see cref="PowerLawFit.BootstrapWithoutTrend"/>)
/// and left out of the intervals: they are the spread of the trend given that there is one, and the share of refits
/// without one says how sure the trend itself is.
/// </para>
/// </summary>
public static class PowerLawFitter
{
    /// <summary>The fewest points that leave the three parameters a residual degree of freedom.</summary>
    public const int MinPoints = 4;

    /// <summary>Bootstrap resamples drawn by default.</summary>
    public const int DefaultBootstrapSamples = 1000;

    /// <summary>Starting floors, as fractions of the smallest loss (the floor lies below every measured loss).</summary>
    private static readonly double[] StartingFloors = [0, 0.25, 0.5, 0.75, 0.9, 0.97];

    private const int MaxIterations = 200;

    /// <summary>
    /// The least fall in ln L, across the points, of the straight line through ln L against ln x that counts as a fall.
    /// Held-out losses are means of float32 values, resolved to about 1e-7; a line through equal losses comes out
    /// with a slope of rounding size (either sign), which must read as flat, not as a trend.
    /// </summary>
    private const double LeastFall = 1e-9;

    /// <param name="x">Compute (or parameters) per point: finite and positive, at least three distinct values.</param>
    /// <param name="loss">The loss per point: finite and positive.</param>
    /// <param name="weights">Per point, the inverse variance of ln L (null: all 1).</param>
    /// <param name="bootstrapSamples">Resamples for the intervals (0: none; the intervals are then NaN).</param>
    /// <param name="seed">Seed of the resampling.</param>
    /// <param name="level">Central probability of the intervals.</param>
    /// <param name="xName">What x is, for the no-trend reason (e.g. "non_embedding_parameters").</param>
    /// <param name="lossName">What the loss is, for the no-trend reason (e.g. "held-out loss").</param>
    /// <exception cref="ArgumentException">Too few points, lengths that differ, or a value that is not finite and positive,
    /// named with its index.</exception>
    /// <exception cref="NoTrendException">The loss does not fall with x: the best fit has b ≤ 0, or the points do not
    /// fall at all; the message names <paramref name="xName"/> and the best fit's b.</exception>
    /// <exception cref="InvalidOperationException">No start converged to a finite fit.</exception>
    public static PowerLawFit Fit(IReadOnlyList<double> x, IReadOnlyList<double> loss, IReadOnlyList<double>? weights = null,
        int bootstrapSamples = DefaultBootstrapSamples, int seed = 1, double level = 0.95, string xName = "x", string lossName = "the loss")
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(loss);
        Validate(x, loss, weights, bootstrapSamples, level);
        double[] w = weights?.ToArray() ?? Enumerable.Repeat(1.0, x.Count).ToArray();
        double[] lnX = x.Select(v => Math.Log(v)).ToArray(), lnL = loss.Select(v => Math.Log(v)).ToArray();
        PowerLaw curve = FitLogs(lnX, lnL, w)
            ?? throw new InvalidOperationException($"no power law a·x^(-b) + c fits the {x.Count} points: every start diverged");
        if (NoTrend(curve, lnX, lnL, w) is { } why)
            throw new NoTrendException($"{lossName} does not fall with {xName}: {why}", curve);

        var random = new Random(seed);
        var refits = new List<PowerLaw>(bootstrapSamples);
        int withoutTrend = 0;
        int[] pick = new int[x.Count];
        for (int s = 0; s < bootstrapSamples; ++s)
        {
            for (int i = 0; i < pick.Length; ++i) pick[i] = random.Next(pick.Length);
            if (pick.Select(i => x[i]).Distinct().Count() < 3) continue;
            double[] pickedX = pick.Select(i => lnX[i]).ToArray(), pickedL = pick.Select(i => lnL[i]).ToArray(), pickedW = pick.Select(i => w[i]).ToArray();
            if (FitLogs(pickedX, pickedL, pickedW) is not { } refit) continue;
            // A resample that rises (or is flat) has no trend: its b ≤ 0 would stretch the intervals of a, b and c over
            // curves that are no scaling law. Counted instead, so its share says how often the points show no trend.
            if (NoTrend(refit, pickedX, pickedL, pickedW) is null) refits.Add(refit);
            else ++withoutTrend;
        }
        return new PowerLawFit(curve, RSquared(curve, lnX, lnL, w), x.Count, refits, bootstrapSamples, seed, level, withoutTrend);
    }

    /// <summary>
    /// Why <paramref name="curve"/>, the best fit to the points, shows no falling trend; null when it does: b &gt; 0 and
    /// the weighted straight line through ln L against ln x falls across the points by at least <see cref="LeastFall"/>.
    /// </summary>
    private static string? NoTrend(PowerLaw curve, double[] lnX, double[] lnL, double[] w)
    {
        // + 0.0 turns a −0 (the exponent of a flat start) into 0, so the reason does not read "b = -0".
        double b = curve.B + 0.0;
        if (!(b > 0)) return Invariant($"the best fit has b = {b:G3}, and a falling trend needs b > 0");
        double fall = -Slope(lnX, lnL, w) * (lnX.Max() - lnX.Min());
        if (!(fall >= LeastFall))
            return "the straight line through ln L against ln x " + (Math.Abs(fall) < LeastFall ? "is flat" : Invariant($"rises by {-fall:G3}")) +
                Invariant($" across the points, though the best fit has b = {b:G3}");
        return null;
    }

    /// <summary>The slope of the weighted least-squares line through (ln x, ln L); the x hold at least 3 distinct values.</summary>
    private static double Slope(double[] lnX, double[] lnL, double[] w)
    {
        double sw = w.Sum(), meanX = lnX.Zip(w, (u, wi) => u * wi).Sum() / sw, meanL = lnL.Zip(w, (y, wi) => y * wi).Sum() / sw;
        double sxy = 0, sxx = 0;
        for (int i = 0; i < lnX.Length; ++i)
        {
            sxy += w[i] * (lnX[i] - meanX) * (lnL[i] - meanL);
            sxx += w[i] * (lnX[i] - meanX) * (lnX[i] - meanX);
        }
        return sxy / sxx;
    }

    private static string Invariant(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void Validate(IReadOnlyList<double> x, IReadOnlyList<double> loss, IReadOnlyList<double>? weights, int bootstrapSamples, double level)
    {
        if (loss.Count != x.Count)
            throw new ArgumentException($"there are {x.Count} x values and {loss.Count} losses; give one loss per x", nameof(loss));
        if (weights is not null && weights.Count != x.Count)
            throw new ArgumentException($"there are {x.Count} points and {weights.Count} weights; give one weight per point", nameof(weights));
        if (x.Count < MinPoints)
            throw new ArgumentException($"a power law a·x^(-b) + c has three parameters: fitting it needs at least {MinPoints} points, and there are {x.Count}", nameof(x));
        RequirePositive(x, nameof(x));
        RequirePositive(loss, nameof(loss));
        if (weights is not null) RequirePositive(weights, nameof(weights));
        if (x.Distinct().Count() < 3)
            throw new ArgumentException($"the points have {x.Distinct().Count()} distinct x values; a power law with a floor needs at least 3", nameof(x));
        ArgumentOutOfRangeException.ThrowIfNegative(bootstrapSamples);
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "the interval level must be between 0 and 1");
    }

    private static void RequirePositive(IReadOnlyList<double> values, string name)
    {
        for (int i = 0; i < values.Count; ++i)
            if (!double.IsFinite(values[i]) || values[i] <= 0)
                throw new ArgumentException($"{name}[{i}] is {values[i]}; every value must be finite and positive", name);
    }

    /// <summary>The best fit over the starting floors, or null when none converged to finite parameters.</summary>
    private static PowerLaw? FitLogs(double[] lnX, double[] lnL, double[] w)
    {
        // ln x centred: the scale parameter is then the loss above the floor at the mean x, of order 1 whatever x's units.
        double centre = lnX.Zip(w, (u, wi) => u * wi).Sum() / w.Sum();
        double[] u = lnX.Select(v => v - centre).ToArray();
        double smallest = lnL.Select(Math.Exp).Min();
        (double[] Theta, double Cost)? best = null;
        foreach (double fraction in StartingFloors)
        {
            if (Start(u, lnL, w, fraction * smallest) is not { } start) continue;
            (double[] theta, double cost) = Minimise(u, lnL, w, start);
            if (double.IsFinite(cost) && theta.All(double.IsFinite) && (best is null || cost < best.Value.Cost)) best = (theta, cost);
        }
        if (best is not { Theta: var t }) return null;
        // Back from the centred scale: a·x^(-b) = exp(α − b(ln x − centre)) = exp(α + b·centre)·x^(-b).
        double a = Math.Exp(t[0] + t[1] * centre);
        return double.IsFinite(a) ? new PowerLaw(a, t[1], t[2]) : null;
    }

    /// <summary>θ = (α, b, c) from the weighted straight line through (u, ln(L − c₀)), or null when it is degenerate.</summary>
    private static double[]? Start(double[] u, double[] lnL, double[] w, double floor)
    {
        double sw = 0, su = 0, sy = 0, suu = 0, suy = 0;
        for (int i = 0; i < u.Length; ++i)
        {
            double y = Math.Log(Math.Exp(lnL[i]) - floor);
            if (!double.IsFinite(y)) return null;
            sw += w[i]; su += w[i] * u[i]; sy += w[i] * y; suu += w[i] * u[i] * u[i]; suy += w[i] * u[i] * y;
        }
        double variance = suu - su * su / sw;
        if (!(variance > 0)) return null;
        double slope = (suy - su * sy / sw) / variance;
        return [(sy - slope * su) / sw, -slope, floor];
    }

    /// <summary>Levenberg–Marquardt on θ = (α, b, c) with c kept at 0 or more; returns θ and its cost Σ w r².</summary>
    private static (double[] Theta, double Cost) Minimise(double[] u, double[] lnL, double[] w, double[] theta)
    {
        double cost = Cost(u, lnL, w, theta), lambda = 1e-3;
        for (int iteration = 0; iteration < MaxIterations && double.IsFinite(cost); ++iteration)
        {
            var (jtj, jtr) = NormalEquations(u, lnL, w, theta);
            bool improved = false;
            while (lambda < 1e12)
            {
                double[,] damped = (double[,])jtj.Clone();
                for (int k = 0; k < 3; ++k) damped[k, k] += lambda * Math.Max(jtj[k, k], 1e-12);
                if (Solve(damped, jtr) is { } step)
                {
                    double[] next = [theta[0] + step[0], theta[1] + step[1], Math.Max(0, theta[2] + step[2])];
                    double nextCost = Cost(u, lnL, w, next);
                    if (nextCost < cost)
                    {
                        bool converged = cost - nextCost <= 1e-14 * (1 + cost);
                        theta = next;
                        cost = nextCost;
                        lambda = Math.Max(lambda / 10, 1e-12);
                        improved = !converged;
                        break;
                    }
                }
                lambda *= 10;
            }
            if (!improved) break;
        }
        return (theta, cost);
    }

    /// <summary>The model in log space at centred ln x <paramref name="u"/>: ln(e^(α − b·u) + c).</summary>
    private static double Model(double u, double[] theta) => Math.Log(Math.Exp(theta[0] - theta[1] * u) + theta[2]);

    private static double Cost(double[] u, double[] lnL, double[] w, double[] theta)
    {
        double sum = 0;
        for (int i = 0; i < u.Length; ++i)
        {
            double r = lnL[i] - Model(u[i], theta);
            sum += w[i] * r * r;
        }
        return sum;
    }

    /// <summary>JᵀWJ and JᵀWr of the residuals r = ln L − model, J the model's derivatives in α, b and c.</summary>
    private static (double[,] JtJ, double[] JtR) NormalEquations(double[] u, double[] lnL, double[] w, double[] theta)
    {
        var jtj = new double[3, 3];
        var jtr = new double[3];
        for (int i = 0; i < u.Length; ++i)
        {
            double p = Math.Exp(theta[0] - theta[1] * u[i]), s = p + theta[2];
            double[] j = [p / s, -u[i] * p / s, 1 / s];
            double r = lnL[i] - Math.Log(s);
            for (int a = 0; a < 3; ++a)
            {
                jtr[a] += w[i] * j[a] * r;
                for (int b = 0; b < 3; ++b) jtj[a, b] += w[i] * j[a] * j[b];
            }
        }
        return (jtj, jtr);
    }

    /// <summary>The solution of the 3×3 system by Gaussian elimination with partial pivoting, or null when singular.</summary>
    private static double[]? Solve(double[,] m, double[] rhs)
    {
        const int n = 3;
        var a = (double[,])m.Clone();
        var b = (double[])rhs.Clone();
        for (int col = 0; col < n; ++col)
        {
            int pivot = col;
            for (int row = col + 1; row < n; ++row)
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col])) pivot = row;
            if (!(Math.Abs(a[pivot, col]) > 1e-300)) return null;
            for (int k = 0; k < n; ++k) (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
            (b[col], b[pivot]) = (b[pivot], b[col]);
            for (int row = col + 1; row < n; ++row)
            {
                double factor = a[row, col] / a[col, col];
                for (int k = col; k < n; ++k) a[row, k] -= factor * a[col, k];
                b[row] -= factor * b[col];
            }
        }
        var result = new double[n];
        for (int row = n - 1; row >= 0; --row)
        {
            double sum = b[row];
            for (int k = row + 1; k < n; ++k) sum -= a[row, k] * result[k];
            result[row] = sum / a[row, row];
        }
        return result.All(double.IsFinite) ? result : null;
    }

    private static double RSquared(PowerLaw curve, double[] lnX, double[] lnL, double[] w)
    {
        double mean = lnL.Zip(w, (y, wi) => y * wi).Sum() / w.Sum();
        double residual = 0, total = 0;
        for (int i = 0; i < lnL.Length; ++i)
        {
            double r = lnL[i] - Math.Log(curve.At(Math.Exp(lnX[i])));
            residual += w[i] * r * r;
            total += w[i] * (lnL[i] - mean) * (lnL[i] - mean);
        }
        return total > 0 ? 1 - residual / total : double.NaN;
    }
}
