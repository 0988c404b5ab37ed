namespace WorldPM.Scaling;

/// <summary>
/// A saturating power law, L(x) = a·x^(-b) + c: the loss a model reaches falls as a power of its compute (or of its
/// parameters) towards a floor c that no amount of scale removes (the data's own noise).
/// </summary>
/// <param name="A">The scale a (positive).</param>
/// <param name="B">The exponent b (positive when more scale lowers the loss).</param>
/// <param name="C">The floor c (0 or more).</param>
public sealed record PowerLaw(double A, double B, double C)
{
    /// <summary>L at <paramref name="x"/> (positive).</summary>
    public double At(double x) => A * Math.Pow(x, -B) + C;
}
