using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using WorldPM.Checkpoints;
using WorldPM.Scaling;

namespace WorldPM.Cli;

/// <summary>
/// A sweep's results and fits: held-out loss against training compute over every run (<c>"fit"</c>), and against
/// non-embedding parameters over the runs of the largest data size (<c>"fit_parameters"</c>), each L = a·x^(-b) + c
/// with equal weights in log space (every run is evaluated on the same held-out pairs, so the relative error of each
/// mean loss is about the same). A fit that cannot be made (too few points), or that shows no falling trend (the best fit
/// has b ≤ 0: held-out loss rises, or stays flat, with x), is recorded as <c>{"error": ...}</c> naming the reason.
/// Only a failed compute fit fails the sweep (<see cref="SweepCommand"/>); the parameter fit is over few runs (one per
/// size) and often shows no trend in short sweeps, which is a finding, not a failure.
/// Written as <c>sweep.json</c> and as a markdown table <c>sweep.md</c> (also printed), each atomically.
/// </summary>
internal sealed class SweepReport
{
    public const string JsonFileName = "sweep.json";

    public const string TableFileName = "sweep.md";

    /// <summary>The seed of the fits' bootstrap: the same runs always give the same intervals.</summary>
    public const int BootstrapSeed = 1;

    private readonly JsonObject _recipe;
    private readonly SweepGrid _grid;

    private SweepReport(IReadOnlyList<SweepResult> results, SweepGrid grid, JsonObject recipe)
    {
        Results = results;
        _grid = grid;
        _recipe = recipe;
    }

    public IReadOnlyList<SweepResult> Results { get; }

    public PowerLawFit? ComputeFit { get; private init; }

    public string? ComputeFitError { get; private init; }

    public PowerLawFit? ParameterFit { get; private init; }

    public string? ParameterFitError { get; private init; }

    /// <summary>The step count of the runs the parameter fit is over (the largest).</summary>
    public long ParameterFitSteps => _grid.Steps.Max();

    public static SweepReport Create(IReadOnlyList<SweepResult> results, SweepGrid grid, JsonObject recipe, int bootstrap)
    {
        var (computeFit, computeError) = TryFit(results.Select(r => r.TrainingFlops), results.Select(r => r.Final.Loss), bootstrap, "flops");
        var atLargest = results.Where(r => r.Run.Steps == grid.Steps.Max()).ToList();
        var (parameterFit, parameterError) = TryFit(atLargest.Select(r => r.NonEmbeddingParameters), atLargest.Select(r => r.Final.Loss), bootstrap,
            "non_embedding_parameters");
        return new SweepReport(results, grid, recipe)
        {
            ComputeFit = computeFit, ComputeFitError = computeError, ParameterFit = parameterFit, ParameterFitError = parameterError,
        };
    }

    /// <param name="xName">The axis as sweep.json names it (its <c>"x"</c>), for the no-trend reason.</param>
    private static (PowerLawFit? Fit, string? Error) TryFit(IEnumerable<double> x, IEnumerable<double> loss, int bootstrap, string xName)
    {
        try
        {
            return (PowerLawFitter.Fit(x.ToList(), loss.ToList(), bootstrapSamples: bootstrap, seed: BootstrapSeed, xName: xName, lossName: "held-out loss"), null);
        }
        catch (ArgumentException e)
        {
            // The message without the " (Parameter 'x')" that .NET appends: the report names no code.
            return (null, e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", ""));
        }
        catch (InvalidOperationException e)
        {
            // Also a NoTrendException: "held-out loss does not fall with flops: the best fit has b = ...".
            return (null, e.Message);
        }
    }

    /// <summary>Writes sweep.json and sweep.md into <paramref name="directory"/> and prints the table.</summary>
    public void Write(string directory, TextWriter output)
    {
        AtomicFile.WriteAllText(Path.Combine(directory, JsonFileName), ToJson().ToJsonString(new(JsonLines.Readable) { WriteIndented = true }) + "\n");
        string table = Table();
        AtomicFile.WriteAllText(Path.Combine(directory, TableFileName), table);
        output.Write(table);
    }

    public JsonObject ToJson() => new()
    {
        ["data"] = _recipe["data"]!.DeepClone(),
        ["grid"] = new JsonObject
        {
            ["models"] = new JsonArray([.. _grid.Models.Select(m => JsonValue.Create($"{m.Hidden}x{m.Layers}"))]),
            ["steps"] = new JsonArray([.. _grid.Steps.Select(s => JsonValue.Create(s))]),
        },
        ["recipe"] = Without(_recipe, "data"),
        ["flops"] = $"{SweepResult.FlopsPerParameterToken} * non_embedding_parameters * tokens (non-padding tokens trained on, both responses of every pair)",
        ["fit"] = FitJson(ComputeFit, ComputeFitError, "flops", Results.Count),
        ["fit_parameters"] = FitJson(ParameterFit, ParameterFitError, "non_embedding_parameters", Results.Count(r => r.Run.Steps == ParameterFitSteps), ParameterFitSteps),
        ["runs"] = new JsonArray([.. Results.Select(RunJson)]),
    };

    private static JsonObject Without(JsonObject o, string key)
    {
        var copy = o.DeepClone().AsObject();
        copy.Remove(key);
        return copy;
    }

    private JsonObject RunJson(SweepResult r) => new()
    {
        ["name"] = r.Run.Name,
        ["directory"] = Path.Combine("runs", r.Run.Name),
        ["hidden_size"] = r.Config.HiddenSize,
        ["layers"] = r.Config.NumHiddenLayers,
        ["parameters"] = new JsonObject { ["non_embedding"] = r.NonEmbeddingParameters, ["total"] = r.TotalParameters },
        ["steps"] = r.Run.Steps,
        ["pairs_seen"] = r.Run.Steps * (int)_recipe["batch"]!,
        ["tokens"] = r.Final.Tokens,
        ["flops"] = r.TrainingFlops,
        ["heldout"] = new JsonObject { ["loss"] = ReportOutput.Finite(r.Final.Loss), ["accuracy"] = ReportOutput.Finite(r.Final.Accuracy) },
        ["curve"] = new JsonArray([.. r.Curve.Select(p => new JsonObject
        {
            ["step"] = p.Step, ["tokens"] = p.Tokens, ["flops"] = r.Flops(p),
            ["loss"] = ReportOutput.Finite(p.Loss), ["accuracy"] = ReportOutput.Finite(p.Accuracy),
        })]),
    };

    private static JsonObject FitJson(PowerLawFit? fit, string? error, string x, int points, long? steps = null)
    {
        var json = new JsonObject { ["x"] = x };
        if (steps is long s) json["steps"] = s;
        if (fit is null)
        {
            json["points"] = points;
            json["error"] = error;
            return json;
        }
        static JsonArray Interval(ConfidenceInterval i) => [ReportOutput.Finite(i.Lower), ReportOutput.Finite(i.Upper)];
        json["a"] = fit.Curve.A;
        json["b"] = fit.Curve.B;
        json["c"] = fit.Curve.C;
        json["r2"] = ReportOutput.Finite(fit.R2);
        json["points"] = fit.Points;
        json["intervals"] = new JsonObject { ["a"] = Interval(fit.AInterval), ["b"] = Interval(fit.BInterval), ["c"] = Interval(fit.CInterval) };
        json["level"] = fit.Level;
        json["bootstrap_samples"] = fit.BootstrapSamples;
        json["bootstrap_fits"] = fit.Bootstrap.Count;
        // Refits of resamples that show no falling trend (b ≤ 0): left out of the intervals, counted here.
        json["bootstrap_without_trend"] = fit.BootstrapWithoutTrend;
        json["bootstrap_seed"] = fit.Seed;
        json["weights"] = "equal, in log space";
        return json;
    }

    /// <summary>The markdown table of the runs and a line per fit.</summary>
    public string Table()
    {
        var text = new StringBuilder();
        text.AppendLine("| run | non-embedding params | params | steps | tokens | FLOPs | held-out loss | held-out accuracy |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (SweepResult r in Results)
            text.AppendLine(Invariant($"| {r.Run.Name} | {r.NonEmbeddingParameters:N0} | {r.TotalParameters:N0} | {r.Run.Steps} | {r.Final.Tokens:N0} | {r.TrainingFlops:G3} | {r.Final.Loss:F4} | {r.Final.Accuracy:P1} |"));
        text.AppendLine();
        text.AppendLine(FitLine("held-out loss vs compute C", "C", ComputeFit, ComputeFitError));
        text.AppendLine(FitLine($"held-out loss vs non-embedding parameters N at {ParameterFitSteps} steps", "N", ParameterFit, ParameterFitError));
        return text.ToString();
    }

    private static string FitLine(string what, string x, PowerLawFit? fit, string? error)
    {
        if (fit is null) return $"{what}: no fit ({error})";
        static string Range(ConfidenceInterval i) => Invariant($"[{i.Lower:G3}, {i.Upper:G3}]");
        return Invariant($"{what}: L = a·{x}^(-b) + c, a = {fit.Curve.A:G4} {Range(fit.AInterval)}, b = {fit.Curve.B:G4} {Range(fit.BInterval)}, ") +
            Invariant($"c = {fit.Curve.C:G4} {Range(fit.CInterval)} ({fit.Level:P0} bootstrap intervals, {fit.Bootstrap.Count} of {fit.BootstrapSamples} resamples fitted") +
            (fit.BootstrapWithoutTrend > 0 ? Invariant($"; {fit.BootstrapWithoutTrend} more ({fit.ShareWithoutTrend:P0} of the fitted) without a falling trend, left out") : "") +
            Invariant($"), R² = {fit.R2:F3} over {fit.Points} runs");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
