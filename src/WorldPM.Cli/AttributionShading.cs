using WorldPM.Explain;

namespace WorldPM.Cli;

/// <summary>
/// How <c>explain</c> colours text, the same in the terminal and in HTML: each unit's background goes from white
/// (0) to green (the largest positive value) or red (the largest negative one), in proportion to |value| over the
/// largest |value| of the prompt and response units.
/// </summary>
internal static class AttributionShading
{
    /// <summary>A stretch of a part's text and the unit it belongs to (null between units).</summary>
    public sealed record Segment(string Text, AttributionUnit? Unit);

    /// <summary>The largest |value| of the prompt and response units (1 when all are 0, so nothing is shaded).</summary>
    public static double Scale(Attribution attribution)
    {
        double max = attribution.Units.Where(u => u.Part != SequencePart.Template).Select(u => Math.Abs(u.Value)).DefaultIfEmpty(0).Max();
        return max > 0 && double.IsFinite(max) ? max : 1;
    }

    /// <summary>The background of a unit with <paramref name="value"/>.</summary>
    public static (byte R, byte G, byte B) Background(double value, double scale)
    {
        double a = Math.Clamp(Math.Abs(value) / scale, 0, 1);
        (double r, double g, double b) = value >= 0 ? (46.0, 160.0, 67.0) : (214.0, 39.0, 40.0);
        static byte Mix(double full, double a) => (byte)Math.Round(255 + a * (full - 255));
        return (Mix(r, a), Mix(g, a), Mix(b, a));
    }

    /// <summary>
    /// <paramref name="text"/> (the response, or one prompt turn's content) cut at the units of that part and turn:
    /// each unit's characters, and the text between them unshaded. Units with an empty span (a token that holds part
    /// of a character) are skipped; the token completing the character carries it.
    /// </summary>
    public static List<Segment> Segments(string text, Attribution attribution, SequencePart part, int turn)
    {
        var segments = new List<Segment>();
        int at = 0;
        foreach (AttributionUnit unit in attribution.Units.Where(u => u.Part == part && u.Turn == turn && u.End > u.Start).OrderBy(u => u.Start))
        {
            if (unit.Start < at) continue;
            if (unit.Start > at) segments.Add(new Segment(text[at..unit.Start], null));
            segments.Add(new Segment(text[unit.Start..unit.End], unit));
            at = unit.End;
        }
        if (at < text.Length) segments.Add(new Segment(text[at..], null));
        return segments;
    }
}
