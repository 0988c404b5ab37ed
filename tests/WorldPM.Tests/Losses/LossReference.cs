namespace WorldPM.Tests.Losses;

/// <summary>
/// The built-in losses in float64, written from their formulas for the tests (not from the kernels): per pair
/// l(z) with z = chosen - rejected, the weighted mean sum w l / sum w.
/// </summary>
internal static class LossReference
{
    /// <summary>log(1 + e^x) without overflow.</summary>
    private static double Softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));

    public static double PerPair(string loss, double gap, double margin, double smoothing) => loss switch
    {
        "bt" => Softplus(-gap),
        "bt-margin" => Softplus(-(gap - margin)),
        "bt-smooth" => (1 - smoothing) * Softplus(-gap) + smoothing * Softplus(gap),
        "hinge" => Math.Max(0, margin - gap),
        _ => throw new ArgumentException(loss),
    };

    /// <summary>The weighted mean over the pairs; <paramref name="margins"/> null means the loss's default (0, or 1 for
    /// hinge), <paramref name="weights"/> null means all 1.</summary>
    public static double Mean(string loss, double[] chosen, double[] rejected, double[]? margins, double[]? weights,
        double smoothing = 0)
    {
        double total = 0, weight = 0;
        for (int i = 0; i < chosen.Length; i++)
        {
            double m = margins?[i] ?? (loss == "hinge" ? 1 : 0);
            double w = weights?[i] ?? 1;
            total += w * PerPair(loss, chosen[i] - rejected[i], m, smoothing);
            weight += w;
        }
        return total / weight;
    }
}
