namespace WorldPM.Losses;

/// <summary>
/// The pairs a <see cref="IPreferenceLoss"/> is computed over: the rewards of the chosen and the rejected responses,
/// and per pair an optional margin (empty: no pair has one) and an optional weight (empty: every pair weighs 1).
/// </summary>
public readonly ref struct PreferenceLossBatch
{
    /// <exception cref="ArgumentException">The spans disagree in length, there is no pair, a weight is negative or not
    /// finite, the weights sum to 0, or a margin is not finite.</exception>
    public PreferenceLossBatch(ReadOnlySpan<float> chosen, ReadOnlySpan<float> rejected,
        ReadOnlySpan<float> margins = default, ReadOnlySpan<float> weights = default)
    {
        if (chosen.IsEmpty) throw new ArgumentException("a loss needs at least one pair", nameof(chosen));
        RequireLength(rejected, chosen.Length, nameof(rejected));
        if (!margins.IsEmpty) RequireLength(margins, chosen.Length, nameof(margins));
        if (!weights.IsEmpty) RequireLength(weights, chosen.Length, nameof(weights));
        PairValueChecks.Weights(weights, nameof(weights));
        PairValueChecks.Margins(margins, nameof(margins));
        Chosen = chosen;
        Rejected = rejected;
        Margins = margins;
        Weights = weights;
    }

    public ReadOnlySpan<float> Chosen { get; }

    public ReadOnlySpan<float> Rejected { get; }

    /// <summary>One margin per pair, or empty.</summary>
    public ReadOnlySpan<float> Margins { get; }

    /// <summary>One weight per pair, or empty for the plain mean.</summary>
    public ReadOnlySpan<float> Weights { get; }

    public int Pairs => Chosen.Length;

    private static void RequireLength(ReadOnlySpan<float> values, int pairs, string name)
    {
        if (values.Length != pairs)
            throw new ArgumentException($"{name} holds {values.Length} values; expected one per pair ({pairs})", name);
    }
}
