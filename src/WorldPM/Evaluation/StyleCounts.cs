using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace WorldPM.Evaluation;

/// <summary>
/// The markdown style of one response, counted on its whole (untruncated) text. Lines inside fenced code blocks
/// count only towards <see cref="CodeBlocks"/> and <see cref="Characters"/>; everything else is counted outside them:
/// <list type="bullet">
/// <item><see cref="Characters"/>: Unicode scalar values (a surrogate pair is one).</item>
/// <item><see cref="Headers"/>: ATX headers, lines of up to 3 spaces, 1 to 6 '#', then a space or the line's end.</item>
/// <item><see cref="ListItems"/>: lines of optional indentation, then '-', '*', '+' or a number with '.' or ')',
/// then a space.</item>
/// <item><see cref="Bold"/>: <c>**text**</c> or <c>__text__</c> spans, text not starting or ending in a space, on one line.</item>
/// <item><see cref="Italic"/>: <c>*text*</c> or <c>_text_</c> spans (after removing bold ones), not touching a word
/// character or another marker outside, text not starting or ending in a space, on one line.</item>
/// <item><see cref="CodeBlocks"/>: fenced blocks, a line starting with ``` or ~~~ opening one and the next such line
/// closing it (an unclosed fence counts).</item>
/// <item><see cref="Links"/>: markdown links <c>[text](target)</c> plus bare http:// or https:// URLs.</item>
/// <item><see cref="Emoji"/>: code points in U+1F000..U+1FAFF or U+2600..U+27BF, but the skin-tone modifiers
/// U+1F3FB..U+1F3FF.</item>
/// </list>
/// </summary>
public sealed partial record StyleCounts(int Characters, int Headers, int ListItems, int Bold, int Italic, int CodeBlocks, int Links,
    int Emoji)
{
    /// <summary>Counts <paramref name="text"/>.</summary>
    public static StyleCounts Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int headers = 0, listItems = 0, bold = 0, italic = 0, codeBlocks = 0, links = 0;
        bool inCode = false;
        foreach (string line in text.Split('\n'))
        {
            if (Fence().IsMatch(line))
            {
                if (!inCode) codeBlocks++;
                inCode = !inCode;
                continue;
            }
            if (inCode) continue;
            if (Header().IsMatch(line)) headers++;
            if (ListItem().IsMatch(line)) listItems++;
            bold += BoldSpan().Count(line);
            italic += ItalicSpan().Count(BoldSpan().Replace(line, "B"));
            links += MarkdownLink().Count(line) + BareUrl().Count(line);
        }
        int characters = 0, emoji = 0;
        foreach (Rune rune in text.EnumerateRunes())
        {
            characters++;
            if (IsEmoji(rune.Value)) emoji++;
        }
        return new StyleCounts(characters, headers, listItems, bold, italic, codeBlocks, links, emoji);
    }

    private static bool IsEmoji(int c) =>
        (c is >= 0x1F000 and <= 0x1FAFF && c is not (>= 0x1F3FB and <= 0x1F3FF)) || c is >= 0x2600 and <= 0x27BF;

    [GeneratedRegex(@"^(```|~~~)")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^ {0,3}#{1,6}(\s|$)")]
    private static partial Regex Header();

    [GeneratedRegex(@"^\s*([-*+]|\d+[.)])\s")]
    private static partial Regex ListItem();

    [GeneratedRegex(@"\*\*(?=\S)[^\n]*?(?<=\S)\*\*|__(?=\S)[^\n]*?(?<=\S)__")]
    private static partial Regex BoldSpan();

    [GeneratedRegex(@"(?<![*\w])\*(?=[^\s*])[^*\n]*?(?<=[^\s*])\*(?![*\w])|(?<![_\w])_(?=[^\s_])[^_\n]*?(?<=[^\s_])_(?![_\w])")]
    private static partial Regex ItalicSpan();

    [GeneratedRegex(@"\[[^\]\n]*\]\([^)\s]+\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"(?<![(\w])https?://[^\s)]+")]
    private static partial Regex BareUrl();

    /// <summary>For messages: the counts as name=value.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"characters={Characters} headers={Headers} list_items={ListItems} bold={Bold} italic={Italic} code_blocks={CodeBlocks} links={Links} emoji={Emoji}");
}
