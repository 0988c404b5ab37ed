using System.Globalization;
using WorldPM.Evaluation;

namespace WorldPM.Cli;

/// <summary>
/// <c>eval --style-plot FILE</c>: a PNG of the model's accuracy by bucket of the chosen-minus-rejected length
/// difference in tokens (relative), beside the share of pairs in each bucket (where the data's labels put them), with
/// chance (0.5) dashed. Written atomically like every PNG of the CLI.
/// </summary>
internal static class StylePlot
{
    public static void Write(StyleReport report, string path)
    {
        StyleFeatureReport length = report.Features.First(f => f.Feature == "tokens");
        var plot = new ScottPlot.Plot();
        (string Label, Func<StyleBucket, double> Value)[] series =
        [
            ("model accuracy", b => b.Model.Accuracy),
            ("share of pairs", b => b.Share),
        ];
        for (int s = 0; s < series.Length; s++)
            GroupedBars.AddSeries(plot, s, series.Length, series[s].Label, [.. length.Buckets.Select(series[s].Value)]);
        var chance = plot.Add.Line(-0.5, 0.5, length.Buckets.Count - 0.5, 0.5);
        chance.LineColor = ScottPlot.Colors.Black;
        chance.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = "chance", LineColor = ScottPlot.Colors.Black, LinePattern = ScottPlot.LinePattern.Dashed });
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, length.Buckets.Count).Select(g => (double)g)],
            [.. length.Buckets.Select(b => $"{b.Label}\n{b.Model.Pairs} pairs")]);
        plot.Axes.SetLimits(-0.6, length.Buckets.Count - 0.4, 0, 1.15);
        plot.Title(string.Create(CultureInfo.InvariantCulture,
            $"accuracy by length difference (chosen - rejected tokens, relative); humans preferred the longer {Percent(length.HumansPreferMore)}, the model {Percent(length.ModelPrefersMore)}"));
        plot.XLabel("chosen minus rejected length, relative to the longer");
        plot.ShowLegend(ScottPlot.Edge.Right);
        PlotCommand.SavePng(plot, path, 1100, 500);
    }

    private static string Percent(double value) => double.IsFinite(value) ? value.ToString("P0", CultureInfo.InvariantCulture) : "n/a";
}
