namespace WorldPM.Tokenization;

/// <summary>How many pairs a <see cref="PairEncoder"/> encoded and how many it had to cut.</summary>
public readonly record struct TruncationStatistics(long Pairs, long TruncatedPairs, long PromptTruncatedPairs, long ResponseTruncatedPairs)
{
    /// <summary>The share of pairs cut, 0 when none were encoded.</summary>
    public double TruncatedFraction => Pairs == 0 ? 0 : (double)TruncatedPairs / Pairs;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{TruncatedPairs} of {Pairs} pairs truncated ({TruncatedFraction:P1}; prompt {PromptTruncatedPairs}, response {ResponseTruncatedPairs})";
}
