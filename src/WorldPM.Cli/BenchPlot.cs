using System.Text.Json;
using System.Text.Json.Nodes;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm plot --bench RUN.jsonl... --out DIR</c>: <c>fractions.png</c>, a bar chart of the
/// <c>fraction_of_ceiling</c> of every workload part in files written by <c>worldpm bench --json</c>: one group per
/// part (<c>W1 fwd</c>, <c>W1 bwd</c>, ... in the order they first appear), one bar per file (legend: the file name,
/// with "quick" for a smoke run), and a dashed line across each group at the part's <c>target_fraction</c>.
/// Ceiling and peak-RSS lines are skipped; a part whose fraction is null (not finite) has no bar.
/// </summary>
internal static class BenchPlot
{
    internal const string FileName = "fractions.png";

    /// <summary>One <c>worldpm bench --json</c> file: its label and, per part (<c>"W1 fwd"</c>), fraction and target.</summary>
    internal sealed record Run(string Label, IReadOnlyDictionary<string, (double? Fraction, double? Target)> Parts, IReadOnlyList<string> Order);

    internal static int Write(IReadOnlyList<FileInfo> files, DirectoryInfo outDir, TextWriter output)
    {
        List<Run> runs = files.Select(Read).ToList();
        List<string> groups = runs.SelectMany(r => r.Order).Distinct().ToList();
        outDir.Create();
        string path = Path.Combine(outDir.FullName, FileName);
        PlotCommand.SavePng(Chart(runs, groups), path, Math.Max(900, 250 + 30 * runs.Count * groups.Count), 500);
        output.WriteLine($"wrote {FileName} to {outDir.FullName} ({runs.Count} runs, {groups.Count} workload parts)");
        return 0;
    }

    /// <summary>Reads one file; a missing file is a usage error, a line that is not a bench line names file:line.</summary>
    internal static Run Read(FileInfo file)
    {
        if (!file.Exists) throw new UsageException($"bench file '{file}' does not exist");
        var parts = new Dictionary<string, (double?, double?)>();
        var order = new List<string>();
        bool quick = false;
        foreach ((int lineNumber, JsonObject o) in JsonLines.Read(file))
        {
            if (Text(o, "id") is not string id || Text(o, "metric") is not string metric)
                throw new InvalidDataException($"{file}:{lineNumber}: no \"id\" and \"metric\" (not a line of worldpm bench --json)");
            quick |= o["quick"] is JsonValue q && q.TryGetValue(out bool isQuick) && isQuick;
            if (!o.ContainsKey("fraction_of_ceiling")) continue;  // a ceiling or the peak RSS
            string key = $"{id} {metric.Replace("_ms", "")}";
            if (parts.ContainsKey(key)) throw new InvalidDataException($"{file}:{lineNumber}: {id} {metric} appears twice");
            parts[key] = (Number(o, "fraction_of_ceiling", file, lineNumber), Number(o, "target_fraction", file, lineNumber));
            order.Add(key);
        }
        if (order.Count == 0) throw new InvalidDataException($"{file} holds no workload lines (write it with worldpm bench --json)");
        string label = Path.GetFileNameWithoutExtension(file.Name) + (quick ? " (quick)" : "");
        return new Run(label, parts, order);
    }

    private static string? Text(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue(out string? s) && !string.IsNullOrEmpty(s) ? s : null;

    /// <summary>A number, or null for JSON null or an absent key; anything else names file:line.</summary>
    private static double? Number(JsonObject o, string key, FileInfo file, int lineNumber)
    {
        JsonNode? node = o[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out double d)) return d;
        throw new InvalidDataException($"{file}:{lineNumber}: \"{key}\" is not a number");
    }

    private static ScottPlot.Plot Chart(IReadOnlyList<Run> runs, IReadOnlyList<string> groups)
    {
        var plot = new ScottPlot.Plot();
        double top = 1.0;
        for (int r = 0; r < runs.Count; ++r)
        {
            double[] fractions = [.. groups.Select(g => runs[r].Parts.TryGetValue(g, out var part) && part.Fraction is double f ? f : double.NaN)];
            top = Math.Max(top, GroupedBars.AddSeries(plot, r, runs.Count, runs[r].Label, fractions));
        }

        var targetColor = ScottPlot.Colors.Black;
        for (int g = 0; g < groups.Count; ++g)
        {
            if (runs.Select(r => r.Parts.GetValueOrDefault(groups[g]).Target).FirstOrDefault(t => t is not null) is not double target) continue;
            var line = plot.Add.Line(g - GroupedBars.GroupWidth / 2 - 0.05, target, g + GroupedBars.GroupWidth / 2 + 0.05, target);
            line.LineColor = targetColor;
            line.LineWidth = 2;
            line.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = "target", LineColor = targetColor, LineWidth = 2, LinePattern = ScottPlot.LinePattern.Dashed });

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, groups.Count).Select(g => (double)g).ToArray(), groups.ToArray());
        plot.Axes.SetLimits(-0.6, groups.Count - 0.4, 0, top * 1.1);
        plot.Title("worldpm bench: fraction of the ceiling of the same run");
        plot.YLabel("rate / ceiling (copy GB/s or GEMM GFLOP/s)");
        plot.ShowLegend(ScottPlot.Edge.Right);
        return plot;
    }
}
