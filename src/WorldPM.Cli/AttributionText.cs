using System.Globalization;
using Spectre.Console;
using WorldPM.Explain;
using WorldPM.Tokenization;

namespace WorldPM.Cli;

/// <summary>
/// <c>explain</c>'s text output: a summary line (reward, method, the check of the sum), then on a terminal the prompt
/// turns and the response shaded by attribution (<see cref="AttributionShading"/>), then one row per prompt and
/// response unit: where it is, its text, its value (and standard error).
/// </summary>
internal static class AttributionText
{
    public static string Summary(Attribution a)
    {
        string settings = a.Method switch
        {
            AttributionMethods.IntegratedGradients => $", {a.Steps} steps",
            AttributionMethods.Shapley => $", {a.Steps} samples",
            _ => "",
        };
        string check = a.Check is not { } c ? "" : Invariant(
            $"; {c.Name}: sum {c.Sum:G6} vs reward - baseline {c.Expected:G6} (error {c.AbsoluteError:G3}, {Percent(c.RelativeError)}")
            + (c.StandardError is double se ? Invariant($", standard error of the sum {se:G3})") : ")");
        return Invariant($"reward {a.Reward:G6} ({a.Method}{settings}){check}");
    }

    /// <summary>A unit's value, with its standard error when it has one.</summary>
    public static string Value(AttributionUnit unit) =>
        unit.StandardError is double se ? Invariant($"{unit.Value:+0.000000;-0.000000} ± {se:0.000000}") : Invariant($"{unit.Value:+0.000000;-0.000000}");

    public static void WritePlain(TextWriter output, Attribution attribution)
    {
        output.WriteLine(Summary(attribution));
        WriteRows(output.WriteLine, attribution);
    }

    public static void WriteTerminal(IAnsiConsole terminal, ExplainedSequence sequence, Attribution attribution)
    {
        terminal.WriteLine(Summary(attribution));
        double scale = AttributionShading.Scale(attribution);
        for (int t = 0; t < sequence.Prompt.Count; t++)
            WriteShaded(terminal, ChatTemplate.RoleName(sequence.Prompt[t].Role), sequence.Prompt[t].Content, attribution, SequencePart.Prompt, t, scale);
        WriteShaded(terminal, "response", sequence.Response, attribution, SequencePart.Response, 0, scale);
        terminal.WriteLine("(green raises the reward, red lowers it)");
        WriteRows(terminal.WriteLine, attribution);
    }

    private static void WriteShaded(IAnsiConsole terminal, string heading, string text, Attribution attribution, SequencePart part, int turn,
        double scale)
    {
        var paragraph = new Paragraph();
        paragraph.Append(heading + ": ");
        foreach (AttributionShading.Segment segment in AttributionShading.Segments(text, attribution, part, turn))
        {
            if (segment.Unit is not { } unit)
            {
                paragraph.Append(segment.Text);
                continue;
            }
            (byte r, byte g, byte b) = AttributionShading.Background(unit.Value, scale);
            paragraph.Append(segment.Text, new Style(Color.Black, new Color(r, g, b)));
        }
        terminal.Write(paragraph);
        terminal.WriteLine();
    }

    private static void WriteRows(Action<string> writeLine, Attribution attribution)
    {
        var units = attribution.Units.Where(u => u.Part != SequencePart.Template).ToList();
        int width = Math.Max(4, units.Select(u => Shown(u.Text).Length).DefaultIfEmpty(0).Max());
        writeLine($"  {"part",-10}  {"chars",-9}  {"text".PadRight(width)}  value");
        foreach (AttributionUnit u in units)
        {
            string where = u.Part == SequencePart.Prompt ? $"prompt {u.Turn}" : "response";
            writeLine($"  {where,-10}  {$"{u.Start}..{u.End}",-9}  {Shown(u.Text).PadRight(width)}  {Value(u)}");
        }
    }

    /// <summary>A unit's text on one line: line breaks and tabs written as escapes.</summary>
    private static string Shown(string text) => text.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");

    private static string Percent(double value) => double.IsFinite(value) ? Invariant($"{value:P2}") : "n/a";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
