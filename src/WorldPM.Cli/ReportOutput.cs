using System.Globalization;
using System.Text.Json.Nodes;
using WorldPM.Evaluation;

namespace WorldPM.Cli;

/// <summary>
/// An <see cref="EvaluationReport"/> as text tables or as JSON (non-finite numbers become null). Accuracies come with
/// their 95 % interval (<see cref="AccuracyInterval"/>), and the text says when the overall one is within noise of
/// chance, so that a small or unlearned evaluation set is not read as a result.
/// </summary>
internal static class ReportOutput
{
    /// <param name="lossName">What the loss column is ("BT": Bradley-Terry; eval names another loss it reports).</param>
    public static void WriteText(TextWriter output, EvaluationReport report, string lossName = "BT")
    {
        PairwiseMetrics o = report.Overall;
        output.WriteLine(Invariant($"overall: {o.Pairs} pairs, accuracy {Percent(o.Accuracy)}, mean {lossName} loss {Number(o.Loss, "F4")}, mean margin {Number(o.Margin, "F4")}"));
        if (IntervalLine(o) is { } interval) output.WriteLine(interval);
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

    /// <summary>
    /// Pairs, accuracy with its 95 % interval (<c>accuracy_ci_low</c>, <c>accuracy_ci_high</c>, and
    /// <c>within_noise_of_chance</c> when the interval holds 50 %), loss and margin; the interval is null without pairs.
    /// </summary>
    public static JsonObject Metrics(PairwiseMetrics m)
    {
        AccuracyInterval interval = AccuracyInterval.Of(m);
        return new JsonObject
        {
            ["pairs"] = m.Pairs,
            ["accuracy"] = Finite(m.Accuracy),
            ["accuracy_ci_low"] = Finite(interval.Low),
            ["accuracy_ci_high"] = Finite(interval.High),
            ["within_noise_of_chance"] = interval.IsKnown ? interval.ContainsChance : null,
            ["loss"] = Finite(m.Loss),
            ["margin"] = Finite(m.Margin),
        };
    }

    /// <summary>
    /// The line under the overall one: the accuracy's 95 % interval and whether it is above, below or within noise of
    /// chance; null without pairs.
    /// </summary>
    public static string? IntervalLine(PairwiseMetrics m)
    {
        AccuracyInterval interval = AccuracyInterval.Of(m);
        if (!interval.IsKnown) return null;
        string verdict = interval.ContainsChance ? "within noise of chance (50 % is inside it: on this many pairs the model cannot be told from a coin flip)"
            : interval.Low > AccuracyInterval.Chance ? "above chance"
            : "below chance: the model prefers the rejected responses";
        return Invariant($"  accuracy 95 % interval {Percent(interval.Low)} to {Percent(interval.High)} (Wilson): {verdict}");
    }

    /// <summary>A JSON number, or null for NaN and infinities (JSON has no such numbers).</summary>
    public static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static string Percent(double value) => double.IsFinite(value) ? Invariant($"{value:P1}") : "n/a";

    private static string Number(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
