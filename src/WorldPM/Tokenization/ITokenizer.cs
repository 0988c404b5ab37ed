namespace WorldPM.Tokenization;

/// <summary>
/// Turns text into token ids and back. Implementations: <see cref="ByteLevelBpeTokenizer"/> (Qwen2 /
/// Qwen2.5 files) and <see cref="ByteTokenizer"/> (the built-in tokenizer of tiny models).
/// Every implementation knows the three special tokens the Qwen2.5 chat template needs.
/// </summary>
public interface ITokenizer
{
    /// <summary>
    /// One more than the largest id this tokenizer can produce. A model's embedding table may be
    /// larger (Qwen2.5 pads it to 151,936), never smaller.
    /// </summary>
    int VocabSize { get; }

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c>.</summary>
    int EndOfTextId { get; }

    /// <summary>The id of <c>&lt;|im_start|&gt;</c>.</summary>
    int ImStartId { get; }

    /// <summary>The id of <c>&lt;|im_end|&gt;</c>.</summary>
    int ImEndId { get; }

    /// <summary>
    /// Encodes <paramref name="text"/>. Special tokens written in the text (<c>&lt;|im_end|&gt;</c>)
    /// stay ordinary text unless <paramref name="parseSpecialTokens"/> is true, so user content can
    /// never forge the template's structure.
    /// </summary>
    int[] Encode(string text, bool parseSpecialTokens = false);

    /// <summary>
    /// Decodes ids back to text; special tokens appear as their text unless
    /// <paramref name="skipSpecialTokens"/> is true. Incomplete UTF-8 decodes to U+FFFD.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false);

    /// <summary>The id of an added token by its text, e.g. <c>TokenId("&lt;|im_end|&gt;")</c>.</summary>
    /// <exception cref="KeyNotFoundException">No added token has that text.</exception>
    int TokenId(string token);

    /// <summary>The id of an added token by its text, if there is one.</summary>
    bool TryGetTokenId(string token, out int id);
}
