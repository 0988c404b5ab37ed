namespace WorldPM.Model;

/// <summary>
/// Checks a right-padded batch of token ids at the API boundary and stages it for the device: ids of valid
/// positions must be in 0 .. vocab_size - 1; ids at padding positions may be anything (they are replaced by 0,
/// and never influence a reward).
/// </summary>
internal static class TokenBatch
{
    /// <summary>Validates the batch and writes ids (padding as 0) into <paramref name="staged"/> [count * seqLen].</summary>
    public static void Stage(ModelConfig config, ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int count,
        int seqLen, Span<int> staged)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "at least one sequence is needed");
        if (seqLen < 1) throw new ArgumentOutOfRangeException(nameof(seqLen), seqLen, "seqLen must be positive");
        if (seqLen > config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(seqLen), seqLen,
                $"seqLen exceeds max_position_embeddings ({config.MaxPositionEmbeddings})");
        long expected = (long)count * seqLen;
        if (tokens.Length != expected)
            throw new ArgumentException(
                $"tokens holds {tokens.Length} ids; {count} sequences of {seqLen} positions need {expected}", nameof(tokens));
        if (lengths.Length != count)
            throw new ArgumentException($"lengths holds {lengths.Length} values; expected one per sequence ({count})",
                nameof(lengths));
        for (int b = 0; b < count; b++)
        {
            int length = lengths[b];
            if (length < 1 || length > seqLen)
                throw new ArgumentException($"lengths[{b}] is {length}; it must be in 1..{seqLen} (seqLen)", nameof(lengths));
            for (int t = 0; t < seqLen; t++)
            {
                int id = tokens[b * seqLen + t];
                if (t < length && (uint)id >= (uint)config.VocabSize)
                    throw new ArgumentException(
                        $"tokens[{b}, {t}] is {id}; token ids must be in 0..{config.VocabSize - 1} (vocab_size {config.VocabSize})",
                        nameof(tokens));
                staged[b * seqLen + t] = t < length ? id : 0;
            }
        }
    }

    /// <summary>Checks per-pair loss weights: none, or one finite non-negative weight per pair with a positive sum.</summary>
    public static void CheckWeights(ReadOnlySpan<float> weights, int pairs)
    {
        if (weights.IsEmpty) return;
        if (weights.Length != pairs)
            throw new ArgumentException($"weights holds {weights.Length} values; expected one per pair ({pairs})",
                nameof(weights));
        double sum = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            if (!float.IsFinite(weights[i]) || weights[i] < 0)
                throw new ArgumentException($"weights[{i}] is {weights[i]}; weights must be finite and >= 0", nameof(weights));
            sum += weights[i];
        }
        if (sum <= 0) throw new ArgumentException("weights sum to 0; at least one pair must count", nameof(weights));
    }
}
