using System.Text;

namespace WorldPM.Tokenization;

/// <summary>
/// The built-in tokenizer of tiny models: one id per UTF-8 byte (0..255), then
/// <c>&lt;|endoftext|&gt;</c> = 256, <c>&lt;|im_start|&gt;</c> = 257, <c>&lt;|im_end|&gt;</c> = 258;
/// vocabulary 259. Needs no files, round-trips any text exactly.
/// </summary>
public sealed class ByteTokenizer : ITokenizer
{
    private const int ByteCount = 256;
    private static readonly string[] Specials = [SpecialTokens.EndOfText, SpecialTokens.ImStart, SpecialTokens.ImEnd];

    private readonly AddedTokenMatcher _matcher =
        new(Specials.Select((content, i) => new AddedToken(content, ByteCount + i, Special: true)));

    /// <summary>The one instance; the tokenizer has no state.</summary>
    public static ByteTokenizer Instance { get; } = new();

    private ByteTokenizer()
    {
    }

    /// <inheritdoc/>
    public int VocabSize => ByteCount + Specials.Length;

    /// <inheritdoc/>
    public int EndOfTextId => ByteCount;

    /// <inheritdoc/>
    public int ImStartId => ByteCount + 1;

    /// <inheritdoc/>
    public int ImEndId => ByteCount + 2;

    /// <inheritdoc/>
    public int[] Encode(string text, bool parseSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length + 4);
        foreach (var segment in _matcher.Split(text, parseSpecialTokens))
        {
            if (segment.IsText)
                ids.AddRange(Encoding.UTF8.GetBytes(text, segment.Start, segment.Length).Select(b => (int)b));
            else
                ids.Add(segment.TokenId);
        }
        return ids.ToArray();
    }

    /// <inheritdoc/>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Byte tokenizer ids are 0..{VocabSize - 1}.");
            if (id < ByteCount)
            {
                bytes.Add((byte)id);
                continue;
            }
            text.Append(Encoding.UTF8.GetString(bytes.ToArray()));
            bytes.Clear();
            if (!skipSpecialTokens)
                text.Append(Specials[id - ByteCount]);
        }
        text.Append(Encoding.UTF8.GetString(bytes.ToArray()));
        return text.ToString();
    }

    /// <inheritdoc/>
    public int TokenId(string token) =>
        TryGetTokenId(token, out int id) ? id : throw new KeyNotFoundException($"No special token \"{token}\" in the byte tokenizer.");

    /// <inheritdoc/>
    public bool TryGetTokenId(string token, out int id)
    {
        int index = Array.IndexOf(Specials, token);
        id = index < 0 ? -1 : ByteCount + index;
        return index >= 0;
    }
}
