using System.Globalization;
using System.Text.Json.Nodes;
using WorldPM.Evaluation;

namespace WorldPM.Cli;

/// <summary><c>eval --style</c>: the <see cref="StyleReport"/> as text tables, or as the "style" section of
/// <c>eval --json</c>.</summary>
internal static class StyleOutput
{
    public static void WriteText(TextWriter output, StyleReport report)
    {
        output.WriteLine("style (chosen minus rejected; humans/model: share preferring the response with more of the feature, among pairs that differ):");
        output.WriteLine($"  {"feature",-12}  {"chosen",8}  {"rejected",8}  {"differ",6}  {"humans",7}  {"model",7}  {"spearman",8}");
        foreach (StyleFeatureReport f in report.Features)
            output.WriteLine(Invariant($"  {f.Feature,-12}  {Number(f.ChosenMean),8}  {Number(f.RejectedMean),8}  {f.PairsDiffering,6}  {Percent(f.HumansPreferMore),7}  {Percent(f.ModelPrefersMore),7}  {Number(f.Spearman),8}"));
        foreach (StyleFeatureReport f in report.Features.Where(f => f.PairsDiffering > 0))
        {
            output.WriteLine($"  {f.Feature} by difference:");
            foreach (StyleBucket b in f.Buckets.Where(b => b.Model.Pairs > 0))
                output.WriteLine(Invariant($"    {b.Label,-12}  {b.Model.Pairs,6} pairs  accuracy {Percent(b.Model.Accuracy),7}  margin {Number(b.Model.Margin),8}"));
        }
    }

    /// <summary>
    /// {"pairs", "features": {name: {"chosen_mean", "rejected_mean", "pairs_differing", "humans_prefer_more",
    /// "model_prefers_more", "spearman", "buckets": [{"bucket", "pairs", "share", "accuracy", "loss", "margin"}]}}}
    /// </summary>
    public static JsonObject ToJson(StyleReport report)
    {
        var features = new JsonObject();
        foreach (StyleFeatureReport f in report.Features)
            features[f.Feature] = new JsonObject
            {
                ["chosen_mean"] = ReportOutput.Finite(f.ChosenMean),
                ["rejected_mean"] = ReportOutput.Finite(f.RejectedMean),
                ["pairs_differing"] = f.PairsDiffering,
                ["humans_prefer_more"] = ReportOutput.Finite(f.HumansPreferMore),
                ["model_prefers_more"] = ReportOutput.Finite(f.ModelPrefersMore),
                ["spearman"] = ReportOutput.Finite(f.Spearman),
                ["buckets"] = new JsonArray([.. f.Buckets.Select(b =>
                {
                    JsonObject bucket = ReportOutput.Metrics(b.Model);
                    bucket.Insert(0, "bucket", b.Label);
                    bucket["share"] = ReportOutput.Finite(b.Share);
                    return (JsonNode)bucket;
                })]),
            };
        return new JsonObject { ["pairs"] = report.Pairs, ["features"] = features };
    }

    private static string Percent(double value) => double.IsFinite(value) ? Invariant($"{value:P1}") : "n/a";

    private static string Number(double value) => double.IsFinite(value) ? value.ToString("F3", CultureInfo.InvariantCulture) : "n/a";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
