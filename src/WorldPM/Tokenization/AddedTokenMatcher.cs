using System.Text.RegularExpressions;

namespace WorldPM.Tokenization;

/// <summary>
/// Cuts text into runs of plain text and whole added tokens, leftmost first and, at one position,
/// longest first (the rule of the Hugging Face tokenizers). Added tokens match the raw text (Qwen's
/// are all <c>normalized: false</c>); their <c>lstrip</c>/<c>rstrip</c>/<c>single_word</c> flags are
/// not supported (Qwen sets none of them).
/// </summary>
internal sealed class AddedTokenMatcher
{
    /// <summary>A run of the text: plain text (<see cref="TokenId"/> &lt; 0) or one added token.</summary>
    public readonly record struct Segment(int Start, int Length, int TokenId)
    {
        public bool IsText => TokenId < 0;
    }

    private readonly Dictionary<string, int> _ids;
    private readonly Regex? _ordinary;
    private readonly Regex? _all;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        var list = tokens.ToList();
        _ids = list.ToDictionary(t => t.Content, t => t.Id, StringComparer.Ordinal);
        _ordinary = Alternation(list.Where(t => !t.Special));
        _all = Alternation(list);
    }

    /// <summary>Splits <paramref name="text"/>; special tokens only when <paramref name="parseSpecialTokens"/>.</summary>
    public List<Segment> Split(string text, bool parseSpecialTokens)
    {
        var segments = new List<Segment>();
        var regex = parseSpecialTokens ? _all : _ordinary;
        int position = 0;
        if (regex is not null)
        {
            for (var match = regex.Match(text); match.Success; match = match.NextMatch())
            {
                if (match.Index > position)
                    segments.Add(new Segment(position, match.Index - position, -1));
                segments.Add(new Segment(match.Index, match.Length, _ids[match.Value]));
                position = match.Index + match.Length;
            }
        }
        if (position < text.Length)
            segments.Add(new Segment(position, text.Length - position, -1));
        return segments;
    }

    private static Regex? Alternation(IEnumerable<AddedToken> tokens)
    {
        // .NET alternation takes the first alternative that matches, so longest first gives longest-match.
        var alternatives = tokens
            .Select(t => t.Content)
            .Where(c => c.Length > 0)
            .OrderByDescending(c => c.Length)
            .ThenBy(c => c, StringComparer.Ordinal)
            .Select(Regex.Escape)
            .ToList();
        return alternatives.Count == 0
            ? null
            : new Regex(string.Join('|', alternatives), RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }
}
