using WorldPM.Data;
using WorldPM.Tokenization;

namespace WorldPM.Training;

/// <summary>
/// A 64-bit digest of the tokenized training pairs in their loaded order (token ids, weights, margins), stored with every
/// checkpoint so a resume can tell that it is given other data: the data position saved with the checkpoint only
/// means something for the same pairs. FNV-1a over the values: not a cryptographic hash, only a change detector.
/// </summary>
public static class TrainingDataFingerprint
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    /// <summary>The digest of no pairs, to <see cref="Add"/> pairs to one by one.</summary>
    public const ulong Start = Offset;

    /// <summary>The digest of <paramref name="pairs"/>; a whole token store carries the digest its writer computed.</summary>
    public static long Of(IReadOnlyList<TokenizedPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs is TokenStore store) return store.DataFingerprint;
        ulong hash = Start;
        foreach (TokenizedPair pair in pairs) hash = Add(hash, pair);
        return unchecked((long)hash);
    }

    /// <summary>The digest <paramref name="hash"/> extended by <paramref name="pair"/>.</summary>
    public static ulong Add(ulong hash, TokenizedPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        void Mix(int value)
        {
            for (int shift = 0; shift < 32; shift += 8)
                hash = (hash ^ (byte)(value >> shift)) * Prime;
        }
        Mix(pair.Chosen.Length);
        foreach (int id in pair.Chosen) Mix(id);
        Mix(pair.Rejected.Length);
        foreach (int id in pair.Rejected) Mix(id);
        Mix(BitConverter.SingleToInt32Bits(pair.Weight));
        // Only pairs that have a margin mix one in: data without margins keeps the digest it always had.
        if (pair.Margin is float margin) Mix(BitConverter.SingleToInt32Bits(margin));
        return hash;
    }
}
