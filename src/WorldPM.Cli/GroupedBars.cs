using System.Globalization;

namespace WorldPM.Cli;

/// <summary>
/// The grouped bar charts of the CLI (<see cref="BenchPlot"/>, <see cref="StylePlot"/>): group g is centred on x = g
/// and holds one bar per series side by side within <see cref="GroupWidth"/>, each series in its own Category10 colour
/// with a legend entry, every bar labelled with its value to two decimals. One place for the layout, so the charts
/// look alike.
/// </summary>
internal static class GroupedBars
{
    /// <summary>The width all of a group's bars share (1 is the distance between groups).</summary>
    public const double GroupWidth = 0.8;

    /// <summary>
    /// Adds series <paramref name="series"/> of <paramref name="seriesCount"/>: a bar in group g for each finite
    /// <paramref name="values"/>[g] (a value that is not finite gets no bar), and its legend entry
    /// <paramref name="label"/>. Returns the largest value drawn (negative infinity when none), for the axis limits.
    /// </summary>
    public static double AddSeries(ScottPlot.Plot plot, int series, int seriesCount, string label, IReadOnlyList<double> values)
    {
        double barWidth = GroupWidth / seriesCount;
        ScottPlot.Color color = new ScottPlot.Palettes.Category10().GetColor(series);
        var bars = new List<ScottPlot.Bar>();
        double top = double.NegativeInfinity;
        for (int g = 0; g < values.Count; g++)
        {
            double value = values[g];
            if (!double.IsFinite(value)) continue;
            bars.Add(new ScottPlot.Bar
            {
                Position = g - GroupWidth / 2 + barWidth * (series + 0.5),
                Value = value,
                Size = barWidth * 0.9,
                FillColor = color,
                LineWidth = 0,
                Label = value.ToString("0.00", CultureInfo.InvariantCulture),
            });
            top = Math.Max(top, value);
        }
        plot.Add.Bars(bars).ValueLabelStyle.FontSize = 10;
        plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = label, FillColor = color });
        return top;
    }
}
