using System.Globalization;
using System.Text.Json.Nodes;
using WorldPM.Evaluation;

namespace WorldPM.Cli;

/// <summary>An <see cref="EvaluationReport"/> as text tables or as JSON (non-finite numbers become null).</summary>
internal static class ReportOutput
{
    /// <param name="lossName">What the loss column is ("BT": Bradley-Terry; eval names another loss it reports).</param>
    public static void WriteText(TextWriter output, EvaluationReport report, string lossName = "BT")
    {
        PairwiseMetrics o = report.Overall;
        output.WriteLine(Invariant($"overall: {o.Pairs} pairs, accuracy {Percent(o.Accuracy)}, mean {lossName} loss {Number(o.Loss, "F4")}, mean margin {Number(o.Margin, "F4")}"));
        int width = Math.Max("chosen shorter".Length, report.BySubset.Keys.DefaultIfEmpty("").Max(k => k.Length));
        output.WriteLine($"  {"subset".PadRight(width)}  {"pairs",6}  {"accuracy",8}  {"loss",8}  {"margin",8}");
        foreach (var (subset, m) in report.BySubset)
            output.WriteLine($"  {subset.PadRight(width)}  {m.Pairs,6}  {Percent(m.Accuracy),8}  {Number(m.Loss, "F4"),8}  {Number(m.Margin, "F4"),8}");
        output.WriteLine($"  {"length bias".PadRight(width)}  {"pairs",6}  {"accuracy",8}");
        output.WriteLine($"  {"chosen shorter".PadRight(width)}  {report.ChosenShorter.Pairs,6}  {Percent(report.ChosenShorter.Accuracy),8}");
        output.WriteLine($"  {"chosen longer".PadRight(width)}  {report.ChosenLonger.Pairs,6}  {Percent(report.ChosenLonger.Accuracy),8}");
        output.WriteLine($"  {"same length".PadRight(width)}  {report.SameLength.Pairs,6}  {Percent(report.SameLength.Accuracy),8}");
    }

    /// <summary>
    /// "overall", each of "subsets" by name, and "length_bias" ("chosen_shorter", "chosen_longer", "same_length"), each
    /// with pairs, accuracy, loss and margin; added to <paramref name="into"/> when given.
    /// </summary>
    public static JsonObject ToJson(EvaluationReport report, JsonObject? into = null)
    {
        var subsets = new JsonObject();
        foreach (var (subset, m) in report.BySubset) subsets[subset] = Metrics(m);
        JsonObject json = into ?? [];
        json["overall"] = Metrics(report.Overall);
        json["subsets"] = subsets;
        json["length_bias"] = new JsonObject
        {
            ["chosen_shorter"] = Metrics(report.ChosenShorter),
            ["chosen_longer"] = Metrics(report.ChosenLonger),
            ["same_length"] = Metrics(report.SameLength),
        };
        return json;
    }

    public static JsonObject Metrics(PairwiseMetrics m) => new()
    {
        ["pairs"] = m.Pairs,
        ["accuracy"] = Finite(m.Accuracy),
        ["loss"] = Finite(m.Loss),
        ["margin"] = Finite(m.Margin),
    };

    /// <summary>A JSON number, or null for NaN and infinities (JSON has no such numbers).</summary>
    public static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static string Percent(double value) => double.IsFinite(value) ? Invariant($"{value:P1}") : "n/a";

    private static string Number(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
