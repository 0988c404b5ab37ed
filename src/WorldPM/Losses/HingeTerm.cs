namespace WorldPM.Losses;

/// <summary>The ranking hinge: max(0, margin - gap); slope -1 while the chosen response leads by less than the margin,
/// else 0.</summary>
public readonly struct HingeTerm : IPairLossTerm
{
    public float Loss(float gap, float margin) => MathF.Max(0f, margin - gap);

    public float Slope(float gap, float margin) => margin - gap > 0f ? -1f : 0f;
}
