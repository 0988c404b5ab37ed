namespace WorldPM.Losses;

/// <summary>Bradley-Terry with a margin: -log sigmoid(gap - margin) (the margin 0 gives plain Bradley-Terry).</summary>
public readonly struct BradleyTerryTerm : IPairLossTerm
{
    public float Loss(float gap, float margin) => LogisticMath.Softplus(margin - gap);

    public float Slope(float gap, float margin) => LogisticMath.SigmoidMinusOne(gap - margin);
}
