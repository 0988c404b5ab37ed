using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm plot METRICS.jsonl --out DIR</c>: PNG curves of a run from the <c>--metrics</c> file of
/// <c>worldpm train</c>: <c>loss.png</c> (training BT loss, and held-out loss at each evaluation),
/// <c>accuracy.png</c> (training and held-out pairwise accuracy) and <c>grad_norm.png</c> (before clipping,
/// spikes marked). <c>worldpm plot --bench RUN.jsonl... --out DIR</c> instead draws the fractions of ceiling of
/// <c>worldpm bench --json</c> runs (<see cref="BenchPlot"/>). Each PNG is written atomically (temp file + rename).
/// </summary>
internal static class PlotCommand
{
    private sealed record Series(List<double> X, List<double> Y);

    internal static Command Create()
    {
        var metrics = new Argument<FileInfo?>("METRICS") { Description = "The JSONL written by worldpm train --metrics.", Arity = ArgumentArity.ZeroOrOne };
        var bench = new Option<FileInfo[]>("--bench")
        {
            Description = $"Instead of METRICS: files of worldpm bench --json output; draws {BenchPlot.FileName}, each workload's fraction of its ceiling, one bar per file, with the targets.",
            HelpName = "RUN.jsonl",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for the PNG files.", Required = true };
        var command = new Command("plot", "Draw loss, accuracy and gradient-norm curves (PNG) from a metrics file, or bench fractions with --bench.")
        {
            metrics, bench, output,
        };
        command.SetAction(result =>
        {
            FileInfo? file = result.GetValue(metrics);
            FileInfo[] runs = result.GetValue(bench) ?? [];
            DirectoryInfo outDir = result.GetValue(output)!;
            if (file is not null && runs.Length > 0) throw new UsageException("plot takes METRICS or --bench RUN.jsonl..., not both");
            if (runs.Length > 0) return BenchPlot.Write(runs, outDir, result.InvocationConfiguration.Output);
            return Run(file ?? throw new UsageException("plot needs METRICS (worldpm train --metrics) or --bench RUN.jsonl..."),
                outDir, result.InvocationConfiguration.Output);
        });
        return command;
    }

    internal static int Run(FileInfo metrics, DirectoryInfo outDir, TextWriter output)
    {
        if (!metrics.Exists) throw new UsageException($"metrics file '{metrics}' does not exist");
        var trainLoss = new Series([], []); var trainAcc = new Series([], []); var gradNorm = new Series([], []);
        var spikes = new Series([], []); var evalLoss = new Series([], []); var evalAcc = new Series([], []);
        foreach ((int lineNumber, JsonObject o) in JsonLines.Read(metrics))
        {
            double step = Number(o, "step") ?? throw new InvalidDataException($"{metrics}:{lineNumber}: no \"step\"");
            if ((string?)o["type"] == "eval")
            {
                Add(evalLoss, step, Number(o["overall"], "loss"));
                Add(evalAcc, step, Number(o["overall"], "accuracy"));
                continue;
            }
            Add(trainLoss, step, Number(o, "loss"));
            Add(trainAcc, step, Number(o, "accuracy"));
            Add(gradNorm, step, Number(o, "grad_norm"));
            if (o["grad_norm_spike"] is JsonValue spike && spike.GetValue<bool>()) Add(spikes, step, Number(o, "grad_norm"));
        }
        if (trainLoss.X.Count == 0) throw new InvalidDataException($"{metrics} holds no step records");

        outDir.Create();
        Save(Path.Combine(outDir.FullName, "loss.png"), "Bradley-Terry loss", [("train", trainLoss, true), ("held-out", evalLoss, false)]);
        Save(Path.Combine(outDir.FullName, "accuracy.png"), "pairwise accuracy", [("train", Smooth(trainAcc), true), ("held-out", evalAcc, false)]);
        Save(Path.Combine(outDir.FullName, "grad_norm.png"), "gradient norm (before clipping)", [("grad norm", gradNorm, true), ("spike", spikes, false)]);
        output.WriteLine($"wrote loss.png, accuracy.png, grad_norm.png to {outDir.FullName} ({trainLoss.X.Count} steps, {evalLoss.X.Count} evaluations)");
        return 0;
    }

    private static double? Number(JsonNode? node, string key) =>
        node is JsonObject o && o[key] is JsonValue v && v.TryGetValue(out double d) ? d : null;

    private static void Add(Series s, double x, double? y)
    {
        if (y is double value && double.IsFinite(value))
        {
            s.X.Add(x);
            s.Y.Add(value);
        }
    }

    // Per-step accuracy of a small batch is noisy: a trailing mean over 20 steps shows the trend.
    private static Series Smooth(Series s)
    {
        var y = new List<double>(s.Y.Count);
        for (int i = 0; i < s.Y.Count; ++i) y.Add(s.Y.Skip(Math.Max(0, i - 19)).Take(Math.Min(i + 1, 20)).Average());
        return new Series(s.X, y);
    }

    private static void Save(string path, string title, (string Label, Series Data, bool Line)[] series)
    {
        var plot = new ScottPlot.Plot();
        foreach ((string label, Series data, bool line) in series.Where(s => s.Data.X.Count > 0))
        {
            var scatter = plot.Add.Scatter(data.X.ToArray(), data.Y.ToArray());
            scatter.LegendText = label;
            scatter.MarkerSize = line ? 0 : 7;
            scatter.LineWidth = line ? 1.5f : 0;
        }
        plot.Title(title);
        plot.XLabel("step");
        plot.ShowLegend();
        SavePng(plot, path, 900, 450);
    }

    /// <summary>Writes the PNG to a temp file beside <paramref name="path"/>, then renames it over the target.</summary>
    internal static void SavePng(ScottPlot.Plot plot, string path, int width, int height)
    {
        string temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp.png");
        try
        {
            plot.SavePng(temp, width, height);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
