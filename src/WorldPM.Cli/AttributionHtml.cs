using System.Globalization;
using System.Net;
using System.Text;
using WorldPM.Data;
using WorldPM.Explain;
using WorldPM.Tokenization;

namespace WorldPM.Cli;

/// <summary>
/// <c>explain --html FILE</c>: one self-contained page (inline CSS, no scripts, nothing fetched) with the prompt turns
/// and the response shaded as in the terminal (<see cref="AttributionShading"/>); hovering a unit shows its value
/// (and standard error) in its title. All text is HTML-escaped.
/// </summary>
internal static class AttributionHtml
{
    public static string Render(ExplainedSequence sequence, Attribution attribution, string model)
    {
        double scale = AttributionShading.Scale(attribution);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>worldpm explain</title>\n<style>\n")
            .Append("body { font-family: sans-serif; max-width: 60em; margin: 2em auto; color: #222; }\n")
            .Append(".turn { white-space: pre-wrap; font-family: monospace; border: 1px solid #ccc; padding: 0.6em; margin: 0.4em 0 1.2em; }\n")
            .Append(".turn span { border-radius: 2px; }\n")
            .Append("h2 { font-size: 1em; margin-bottom: 0; }\n")
            .Append(".summary { color: #555; }\n")
            .Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>Attribution of the reward</h1>\n<p class=\"summary\">")
            .Append(Escape(AttributionText.Summary(attribution))).Append("<br>model ").Append(Escape(model))
            .Append("<br>green raises the reward, red lowers it; hover for values</p>\n");
        for (int t = 0; t < sequence.Prompt.Count; t++)
            AppendTurn(html, ChatTemplate.RoleName(sequence.Prompt[t].Role), sequence.Prompt[t].Content, attribution, SequencePart.Prompt, t, scale);
        AppendTurn(html, "response", sequence.Response, attribution, SequencePart.Response, 0, scale);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    private static void AppendTurn(StringBuilder html, string heading, string text, Attribution attribution, SequencePart part, int turn,
        double scale)
    {
        html.Append("<h2>").Append(Escape(heading)).Append("</h2>\n<div class=\"turn\">");
        foreach (AttributionShading.Segment segment in AttributionShading.Segments(text, attribution, part, turn))
        {
            if (segment.Unit is not { } unit)
            {
                html.Append(Escape(segment.Text));
                continue;
            }
            (byte r, byte g, byte b) = AttributionShading.Background(unit.Value, scale);
            html.Append(CultureInfo.InvariantCulture, $"<span style=\"background: rgb({r}, {g}, {b})\" title=\"")
                .Append(Escape(AttributionText.Value(unit))).Append("\">").Append(Escape(segment.Text)).Append("</span>");
        }
        html.Append("</div>\n");
    }

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
