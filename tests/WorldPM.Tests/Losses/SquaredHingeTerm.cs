using WorldPM.Losses;

namespace WorldPM.Tests.Losses;

/// <summary>A user-written loss, as the README shows it: the squared hinge (max(0, 1 + margin - gap))^2, compiled by
/// ILGPU into the pair kernel of <see cref="KernelLoss{TTerm}"/>.</summary>
public readonly struct SquaredHingeTerm : IPairLossTerm
{
    public float Loss(float gap, float margin)
    {
        float shortfall = MathF.Max(0f, 1f + margin - gap);
        return shortfall * shortfall;
    }

    public float Slope(float gap, float margin) => -2f * MathF.Max(0f, 1f + margin - gap);
}
