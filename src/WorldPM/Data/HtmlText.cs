using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace WorldPM.Data;

/// <summary>
/// Turns the HTML of a forum post into plain text: tags stripped, entities decoded, whitespace
/// collapsed as a browser would; paragraphs and block elements become blank lines, <c>&lt;br&gt;</c>
/// a line break, list items "- " or "1. " lines, inline code `backticks` and <c>&lt;pre&gt;</c>
/// blocks fenced with ``` and kept verbatim.
/// </summary>
public static partial class HtmlText
{
    private static readonly HashSet<string> Blocks =
        ["p", "div", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "dl", "hr"];

    private static readonly HashSet<string> Skipped = ["script", "style"];

    public static string ToPlainText(string html)
    {
        var writer = new Writer();
        var position = 0;
        foreach (Match tag in TagPattern().Matches(html))
        {
            writer.Text(html[position..tag.Index]);
            position = tag.Index + tag.Length;
            if (!tag.Value.StartsWith("<!", StringComparison.Ordinal))
            {
                writer.Tag(tag.Groups["name"].Value.ToLowerInvariant(), tag.Groups["close"].Success, tag.Groups["attributes"].Value);
            }
        }
        writer.Text(html[position..]);
        return writer.Finish();
    }

    [GeneratedRegex(@"<!--.*?-->|<!\w[^>]*>|<(?<close>/)?(?<name>[a-zA-Z][a-zA-Z0-9]*)(?<attributes>[^>]*)>", RegexOptions.Singleline)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"\balt\s*=\s*(?:""(?<alt>[^""]*)""|'(?<alt>[^']*)')", RegexOptions.IgnoreCase)]
    private static partial Regex AltPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"[ \t]+\n")]
    private static partial Regex TrailingSpaces();

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex BlankLines();

    private sealed class Writer
    {
        private readonly StringBuilder _text = new();
        private readonly Stack<int> _lists = new();
        private int _pre;
        private int _skipped;

        public void Text(string raw)
        {
            if (_skipped > 0 || raw.Length == 0)
            {
                return;
            }
            var text = WebUtility.HtmlDecode(raw).Replace('\u00a0', ' ');
            if (_pre > 0)
            {
                text = text.Replace("\r\n", "\n");
                _text.Append(EndsWith("```\n") ? text.TrimStart('\n') : text);
                return;
            }
            text = Whitespace().Replace(text, " ");
            _text.Append(AtLineStart() ? text.TrimStart() : text);
        }

        public void Tag(string name, bool close, string attributes)
        {
            if (Skipped.Contains(name))
            {
                _skipped = Math.Max(0, _skipped + (close ? -1 : 1));
            }
            else if (_skipped == 0)
            {
                Element(name, close, attributes);
            }
        }

        public string Finish()
        {
            var text = TrailingSpaces().Replace(_text.ToString(), "\n");
            return BlankLines().Replace(text, "\n\n").Trim();
        }

        private void Element(string name, bool close, string attributes)
        {
            switch (name)
            {
                case "br":
                    NewLine();
                    break;
                case "li" when !close:
                    LineBreak(1);
                    _text.Append(ListMarker());
                    break;
                case "ol" or "ul":
                    List(name, close);
                    break;
                case "pre":
                    Pre(close);
                    break;
                case "code" when _pre == 0:
                    _text.Append('`');
                    break;
                case "img" when AltPattern().Match(attributes) is { Success: true } alt:
                    _text.Append(WebUtility.HtmlDecode(alt.Groups["alt"].Value));
                    break;
                case "tr" when close:
                    LineBreak(1);
                    break;
                case "td" or "th" when !close:
                    _text.Append(' ');
                    break;
                default:
                    if (Blocks.Contains(name))
                    {
                        LineBreak(2);
                        if (name == "hr")
                        {
                            _text.Append("----");
                            LineBreak(2);
                        }
                    }
                    break;
            }
        }

        private void List(string name, bool close)
        {
            LineBreak(2);
            if (!close)
            {
                _lists.Push(name == "ol" ? 0 : -1);
            }
            else if (_lists.Count > 0)
            {
                _lists.Pop();
            }
        }

        private string ListMarker()
        {
            if (_lists.Count == 0 || _lists.Peek() < 0)
            {
                return "- ";
            }
            var number = _lists.Pop() + 1;
            _lists.Push(number);
            return $"{number}. ";
        }

        private void Pre(bool close)
        {
            if (!close)
            {
                LineBreak(2);
                _text.Append("```\n");
                _pre++;
            }
            else if (_pre > 0)
            {
                _pre--;
                TrimEnd();
                _text.Append("\n```");
                LineBreak(2);
            }
        }

        private bool EndsWith(string suffix) =>
            _text.Length >= suffix.Length && _text.ToString(_text.Length - suffix.Length, suffix.Length) == suffix;

        private bool AtLineStart() => _text.Length == 0 || _text[^1] == '\n';

        private void NewLine()
        {
            TrimEnd(' ');
            _text.Append('\n');
        }

        /// <summary>Ends the current line so that at least <paramref name="count"/> newlines follow the text.</summary>
        private void LineBreak(int count)
        {
            if (_text.Length == 0)
            {
                return;
            }
            TrimEnd(' ');
            var trailing = 0;
            while (trailing < _text.Length && _text[_text.Length - 1 - trailing] == '\n')
            {
                trailing++;
            }
            _text.Append('\n', Math.Max(0, count - trailing));
        }

        private void TrimEnd(params char[] characters)
        {
            var trimmed = characters.Length == 0 ? [' ', '\t', '\n', '\r'] : characters;
            while (_text.Length > 0 && trimmed.Contains(_text[^1]))
            {
                _text.Length--;
            }
        }
    }
}
