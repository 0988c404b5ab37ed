namespace WorldPM.Evaluation;

/// <summary>The Bradley-Terry model on a reward difference d = r(a) - r(b), in float64 and in forms that neither
/// overflow nor lose the small tail.</summary>
public static class BradleyTerry
{
    /// <summary>P(a preferred over b) = sigmoid(d).</summary>
    public static double PreferenceProbability(double delta) =>
        delta >= 0 ? 1 / (1 + Math.Exp(-delta)) : Math.Exp(delta) / (1 + Math.Exp(delta));

    /// <summary>The loss of a pair whose chosen response leads by d: -log sigmoid(d) = softplus(-d).</summary>
    public static double Loss(double delta) => Math.Max(-delta, 0) + Math.Log(1 + Math.Exp(-Math.Abs(delta)));
}
