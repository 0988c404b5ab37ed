namespace WorldPM.Explain;

/// <summary>The attribution methods by the names the command line uses.</summary>
public static class AttributionMethods
{
    /// <summary><see cref="Explain.GradientTimesInput"/>.</summary>
    public const string GradientTimesInput = "grad-input";

    /// <summary><see cref="Explain.IntegratedGradients"/>.</summary>
    public const string IntegratedGradients = "integrated-gradients";

    /// <summary><see cref="ShapleySampling"/>.</summary>
    public const string Shapley = "shapley";

    /// <summary>Every method's name.</summary>
    public static IReadOnlyList<string> Names { get; } = [GradientTimesInput, IntegratedGradients, Shapley];
}
