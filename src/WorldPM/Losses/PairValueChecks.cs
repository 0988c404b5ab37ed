namespace WorldPM.Losses;

/// <summary>The rules for per-pair weights and margins, wherever pairs are batched (<see cref="PreferenceLossBatch"/>,
/// <see cref="WorldPM.Model.PairBatch"/>): weights finite, >= 0, with a positive sum; margins finite.</summary>
internal static class PairValueChecks
{
    /// <exception cref="ArgumentException">Naming <paramref name="argument"/> and the first bad weight.</exception>
    public static void Weights(ReadOnlySpan<float> weights, string argument)
    {
        if (weights.IsEmpty) return;
        double sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            if (!float.IsFinite(weights[i]) || weights[i] < 0)
                throw new ArgumentException($"weights[{i}] is {weights[i]}; weights must be finite and >= 0", argument);
            sum += weights[i];
        }
        if (sum <= 0) throw new ArgumentException("weights sum to 0; at least one pair must count", argument);
    }

    /// <exception cref="ArgumentException">Naming <paramref name="argument"/> and the first margin that is not finite.</exception>
    public static void Margins(ReadOnlySpan<float> margins, string argument)
    {
        for (int i = 0; i < margins.Length; i++)
            if (!float.IsFinite(margins[i]))
                throw new ArgumentException($"margins[{i}] is {margins[i]}; margins must be finite", argument);
    }
}
