namespace WorldPM.Cli;

/// <summary>
/// Tells a gradient-norm spike: a norm above <see cref="Factor"/> times the running average of the norms
/// before it (after <see cref="Settle"/> steps), or a non-finite one. A spike is reported, never fatal.
/// </summary>
internal sealed class GradNormWatch
{
    public const double Factor = 10;
    public const int Settle = 5;
    private const double Smoothing = 0.1;

    private int _seen;

    /// <summary>The running (exponential) average of the finite norms seen.</summary>
    public double Average { get; private set; }

    /// <summary>Whether <paramref name="norm"/> is a spike; then folds it into the average.</summary>
    public bool Observe(double norm)
    {
        bool spike = !double.IsFinite(norm) || (_seen >= Settle && norm > Factor * Average);
        if (double.IsFinite(norm))
        {
            Average = _seen == 0 ? norm : (1 - Smoothing) * Average + Smoothing * norm;
            _seen++;
        }
        return spike;
    }
}
