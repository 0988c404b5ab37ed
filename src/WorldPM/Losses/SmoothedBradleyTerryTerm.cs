namespace WorldPM.Losses;

/// <summary>
/// Bradley-Terry with label smoothing: the label says "chosen is better" with probability 1 - epsilon, so
/// loss = -(1 - epsilon) log sigmoid(z) - epsilon log sigmoid(-z), z = gap - margin; its slope is
/// sigmoid(z) - 1 + epsilon. For votes that are sometimes wrong: a confident wrong pair costs a bounded slope.
/// </summary>
public readonly struct SmoothedBradleyTerryTerm : IPairLossTerm
{
    private readonly float epsilon;

    /// <param name="epsilon">In [0, 0.5): the chance that a label is flipped.</param>
    public SmoothedBradleyTerryTerm(float epsilon)
    {
        if (!(epsilon >= 0f && epsilon < 0.5f))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "label smoothing must be in [0, 0.5)");
        this.epsilon = epsilon;
    }

    public float Epsilon => epsilon;

    public float Loss(float gap, float margin)
    {
        float z = gap - margin;
        return (1f - epsilon) * LogisticMath.Softplus(-z) + epsilon * LogisticMath.Softplus(z);
    }

    public float Slope(float gap, float margin) => LogisticMath.SigmoidMinusOne(gap - margin) + epsilon;
}
