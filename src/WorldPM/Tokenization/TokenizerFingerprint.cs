namespace WorldPM.Tokenization;

/// <summary>
/// A 64-bit digest of what a tokenizer does, not of the files it came from: its vocabulary size, special token ids,
/// the text of every id, and the ids of a few probe texts (which the merges decide). Two tokenizers that turn text
/// into the same ids have the same digest wherever their files lie, so a token store can tell whether a model reads
/// its ids the way they were made. FNV-1a: a change detector, not a cryptographic hash.
/// </summary>
public static class TokenizerFingerprint
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    private static readonly string[] Probes =
    [
        "The quick brown fox jumps over the lazy dog.",
        "    def main():\n        return 0\n",
        "Préférences humaines, 人类偏好, 1234567890 <|im_end|>",
    ];

    /// <summary>The digest as 16 lowercase hex digits.</summary>
    public static string Of(ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ulong hash = Offset;
        void Mix(int value)
        {
            for (int shift = 0; shift < 32; shift += 8)
                hash = (hash ^ (byte)(value >> shift)) * Prime;
        }
        Mix(tokenizer.VocabSize);
        Mix(tokenizer.EndOfTextId);
        Mix(tokenizer.ImStartId);
        Mix(tokenizer.ImEndId);
        Span<int> one = stackalloc int[1];
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            one[0] = id;
            foreach (char c in TextOf(tokenizer, one)) Mix(c);
            Mix(-1);
        }
        foreach (string probe in Probes)
            foreach (int id in tokenizer.Encode(probe)) Mix(id);
        return hash.ToString("x16");
    }

    /// <summary>The id's text; an id the vocabulary skips (ids need not be dense) digests as a marker no text gives.</summary>
    private static string TextOf(ITokenizer tokenizer, ReadOnlySpan<int> id)
    {
        try
        {
            return tokenizer.Decode(id);
        }
        catch (ArgumentOutOfRangeException)
        {
            return "\uFFFF-gap";
        }
    }
}
