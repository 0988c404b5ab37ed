using System.Globalization;
using WorldPM.Scaling;

namespace WorldPM.Cli;

/// <summary>
/// <c>sweep.png</c>: held-out BT loss against training compute on log-log axes, one colour per model size (every data
/// size of that size in its colour), the fitted power law and its bootstrap band; a fit that failed (no falling trend,
/// too few runs) is drawn as no curve and a note with its reason instead. Written atomically.
/// </summary>
internal static class SweepPlot
{
    public const string FileName = "sweep.png";

    /// <summary>Points on the drawn curve and band, evenly spaced in log compute.</summary>
    private const int CurvePoints = 100;

    /// <summary>Draws the runs with a finite positive loss and compute; false (nothing written) when there is none.</summary>
    public static bool Write(SweepReport report, string path)
    {
        var results = report.Results.Where(r => r.TrainingFlops > 0 && r.Final.Loss > 0 && double.IsFinite(r.Final.Loss)).ToList();
        if (results.Count == 0) return false;
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        double lowX = results.Min(r => r.TrainingFlops) / 1.5, highX = results.Max(r => r.TrainingFlops) * 1.5;
        var ys = results.Select(r => r.Final.Loss).ToList();

        if (report.ComputeFit is { } fit)
        {
            double[] x = Enumerable.Range(0, CurvePoints).Select(i => lowX * Math.Pow(highX / lowX, i / (CurvePoints - 1.0))).ToArray();
            double[] logX = x.Select(Math.Log10).ToArray();
            if (fit.Bootstrap.Count > 0)
            {
                ConfidenceInterval[] band = x.Select(fit.BandAt).ToArray();
                var fill = plot.Add.FillY(logX, band.Select(b => Math.Log10(b.Lower)).ToArray(), band.Select(b => Math.Log10(b.Upper)).ToArray());
                fill.FillColor = ScottPlot.Colors.Gray.WithAlpha(0.25);
                fill.LegendText = $"{fit.Level:P0} bootstrap band";
            }
            // The axes follow the points and the curve; a band that flares out where there are no points is cut off.
            ys.AddRange(x.Select(fit.Curve.At));
            var curve = plot.Add.Scatter(logX, x.Select(v => Math.Log10(fit.Curve.At(v))).ToArray());
            curve.MarkerSize = 0;
            curve.LineWidth = 2;
            curve.Color = ScottPlot.Colors.Black;
            curve.LegendText = string.Create(CultureInfo.InvariantCulture,
                $"L = {fit.Curve.A:G3}·C^(-{fit.Curve.B:G3}) + {fit.Curve.C:G3}, R² = {fit.R2:F3}");
        }

        // No curve for a failed fit, and the reason on the plot, so a PNG without one is not read as a missing layer.
        // Lower left: where falling points leave room (the common case is a compute trend with a failed parameter fit).
        var notes = new List<string>();
        if (report.ComputeFitError is { } computeError) notes.Add(Note("no fit against compute", computeError));
        if (report.ParameterFitError is { } parameterError) notes.Add(Note($"no fit against parameters at {report.ParameterFitSteps} steps", parameterError));
        if (notes.Count > 0) plot.Add.Annotation(string.Join("\n", notes), ScottPlot.Alignment.LowerLeft);

        var sizes = results.Select(r => r.Run.Model).Distinct().OrderBy(m => results.First(r => r.Run.Model == m).NonEmbeddingParameters).ToList();
        for (int i = 0; i < sizes.Count; ++i)
        {
            var ofSize = results.Where(r => r.Run.Model == sizes[i]).OrderBy(r => r.TrainingFlops).ToList();
            var points = plot.Add.Scatter(ofSize.Select(r => Math.Log10(r.TrainingFlops)).ToArray(), ofSize.Select(r => Math.Log10(r.Final.Loss)).ToArray());
            points.Color = palette.GetColor(i);
            points.MarkerSize = 9;
            points.LineWidth = 1;
            points.LinePattern = ScottPlot.LinePattern.Dotted;
            points.LegendText = string.Create(CultureInfo.InvariantCulture, $"{sizes[i].Name} ({ofSize[0].NonEmbeddingParameters:N0} non-embedding params)");
        }

        double lowY = ys.Where(y => y > 0).Min() / 1.03, highY = ys.Max() * 1.03;
        plot.Axes.Bottom.TickGenerator = Decades(lowX, highX);
        plot.Axes.Left.TickGenerator = LogTicks(lowY, highY);
        plot.Axes.SetLimits(Math.Log10(lowX), Math.Log10(highX), Math.Log10(lowY), Math.Log10(highY));
        plot.Title("worldpm sweep: held-out BT loss vs training compute");
        plot.XLabel("training compute C = 6·N·tokens (FLOPs, log scale)");
        plot.YLabel("held-out BT loss (log scale)");
        plot.ShowLegend(ScottPlot.Edge.Right);
        PlotCommand.SavePng(plot, path, 1100, 550);
        return true;
    }

    /// <summary>A failed fit's note, a clause a line (a reason on one line is wider than the plot).</summary>
    private static string Note(string what, string reason) =>
        what + ":\n  " + string.Join(":\n  ", reason.Split(": ", StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Ticks at the powers of ten in [low, high] (and at both ends when it holds fewer than two).</summary>
    private static ScottPlot.TickGenerators.NumericManual Decades(double low, double high)
    {
        var positions = Enumerable.Range((int)Math.Ceiling(Math.Log10(low)), Math.Max(0, (int)Math.Floor(Math.Log10(high)) - (int)Math.Ceiling(Math.Log10(low)) + 1))
            .Select(e => (double)e).ToList();
        if (positions.Count < 2) return LogTicks(low, high);
        return new ScottPlot.TickGenerators.NumericManual(positions.ToArray(), positions.Select(e => $"1e{e:0}").ToArray());
    }

    /// <summary>Six ticks evenly spaced in log scale over [low, high], labelled with their values.</summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double low, double high)
    {
        double[] positions = Enumerable.Range(0, 6).Select(i => Math.Log10(low) + i * (Math.Log10(high) - Math.Log10(low)) / 5).ToArray();
        return new ScottPlot.TickGenerators.NumericManual(positions, positions.Select(p => Math.Pow(10, p).ToString("G3", CultureInfo.InvariantCulture)).ToArray());
    }
}
