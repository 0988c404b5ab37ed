using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using WorldPM.Checkpoints;
using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Scaling;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm sweep DATA... --out DIR [--quick]</c>: trains a grid of model sizes × data sizes (<see cref="SweepGrid"/>)
/// with one recipe, each run a normal <c>worldpm train</c> run directory under <c>DIR/runs/NAME</c> (trained through
/// the train command itself, checkpoints and <c>--metrics</c> included), then fits held-out BT loss against training
/// compute, and against parameters at the largest data size, as L = a·x^(-b) + c (<see cref="PowerLawFitter"/>), and
/// writes <c>sweep.json</c>, <c>sweep.md</c> and <c>sweep.png</c> (<see cref="SweepReport"/>, <see cref="SweepPlot"/>).
/// Run again on the same DIR, it keeps the finished runs as they are and resumes an unfinished one from its latest
/// checkpoint. Every run holds out the same pairs (the same --eval-fraction and --seed), so their losses compare.
/// </summary>
internal static class SweepCommand
{
    public const string RecipeFileName = "recipe.json";

    private sealed record Arguments(string[] Data, string Out, bool Quick, SweepGrid? Grid, int Batch, int MaxLength,
        double EvalFraction, int Evaluations, double? LearningRate, int Seed, string? Tokenizer, int Bootstrap, DataLoadOptions Loading);

    public static Command Create()
    {
        var data = CommonOptions.DataFiles("Data to sweep: files or directories in any format worldpm train reads.");
        // Checked in Run instead, so that leaving it out is an error that names DATA.
        data.Arity = ArgumentArity.ZeroOrMore;
        var output = new Option<string>("--out") { Description = "Sweep directory: runs/NAME/ per run, configs/, sweep.json, sweep.md, sweep.png.", Required = true, HelpName = "DIR" };
        var quick = new Option<bool>("--quick") { Description = $"The small grid ({Describe(SweepGrid.Quick)}) instead of the default ({Describe(SweepGrid.Default)})." };
        var models = new Option<SweepModel[]?>("--models") { Description = "Model sizes instead of the grid's, as HIDDENxLAYERS,... (e.g. 16x1,32x2).", HelpName = "LIST", CustomParser = ParseModels };
        var steps = new Option<long[]?>("--steps") { Description = "Data sizes instead of the grid's, as optimizer steps of --batch new pairs each (e.g. 30,60,120).", HelpName = "LIST", CustomParser = ParseSteps };
        var batch = CommonOptions.Batch("Pairs per optimizer step.", 8);
        var maxLength = new Option<int>("--max-length") { Description = "Most tokens per sequence (prompt cut first).", DefaultValueFactory = _ => 256, HelpName = "N" }.AtLeast(8);
        var evalFraction = new Option<double>("--eval-fraction") { Description = "Fraction of the data held out (the same pairs for every run).", DefaultValueFactory = _ => 0.1, HelpName = "F" }
            .Must(v => v > 0 && v < 1, "between 0 and 1 (exclusive)");
        var evaluations = new Option<int>("--evals") { Description = "Held-out evaluations per run, evenly spaced (the last at the last step).", DefaultValueFactory = _ => 4, HelpName = "N" }.AtLeast(1);
        var lr = new Option<double?>("--lr") { Description = $"Peak learning rate of every run (cosine schedule). Default: train's {TrainCommand.ScratchLearningRate:G2}.", HelpName = "LR" }
            .Must(v => v is double x && x > 0 && double.IsFinite(x), "a positive number");
        var seed = new Option<int>("--seed") { Description = "Seed of the weights, the data order and the held-out pairs.", DefaultValueFactory = _ => 1, HelpName = "N" };
        var tokenizer = CommonOptions.Tokenizer("byte");
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap resamples for the fit's intervals (fixed seed 1).", DefaultValueFactory = _ => PowerLawFitter.DefaultBootstrapSamples, HelpName = "N" }.AtLeast(0);
        var loading = new DataOptions();

        var command = new Command("sweep", "Train a grid of model sizes x data sizes and fit held-out loss against compute as a power law.")
        {
            data, output, quick, models, steps, batch, maxLength, evalFraction, evaluations, lr, seed, tokenizer, bootstrap,
        };
        foreach (Option option in loading.All) command.Options.Add(option);
        command.SetAction(result =>
        {
            // An option left out reads as an empty list: the grid's own sizes or steps then.
            SweepModel[]? sizes = result.GetValue(models) is { Length: > 0 } givenSizes ? givenSizes : null;
            long[]? counts = result.GetValue(steps) is { Length: > 0 } givenSteps ? givenSteps : null;
            bool isQuick = result.GetValue(quick);
            SweepGrid baseGrid = isQuick ? SweepGrid.Quick : SweepGrid.Default;
            SweepGrid? grid = sizes is null && counts is null ? null : new SweepGrid(sizes ?? [.. baseGrid.Models], counts ?? [.. baseGrid.Steps]);
            var a = new Arguments(result.GetValue(data)!, result.GetValue(output)!, isQuick, grid, result.GetValue(batch), result.GetValue(maxLength),
                result.GetValue(evalFraction), result.GetValue(evaluations), result.GetValue(lr), result.GetValue(seed), result.GetValue(tokenizer),
                result.GetValue(bootstrap), loading.Read(result));
            return Run(a, result.InvocationConfiguration.Output, BackendSelection.Of(result));
        });
        return command;
    }

    private static int Run(Arguments a, TextWriter output, Backend backend)
    {
        if (a.Data.Length == 0) throw new UsageException("sweep needs DATA: one or more data files or directories to train on");
        DataInputs.RequireExisting(a.Data, "data file");
        if (File.Exists(a.Out)) throw new UsageException($"--out '{a.Out}' is a file; it must name a sweep directory (new, or one to continue)");
        SweepGrid grid = a.Grid ?? (a.Quick ? SweepGrid.Quick : SweepGrid.Default);
        var (tokenizer, _) = ModelInputs.Tokenizer(a.Tokenizer);
        string configs = Path.Combine(a.Out, "configs");
        Directory.CreateDirectory(configs);
        JsonObject recipe = RequireSameRecipe(a);

        var results = new List<SweepResult>();
        var runs = grid.Runs.ToList();
        int kept = 0;
        for (int i = 0; i < runs.Count; ++i)
        {
            (SweepModel model, long steps) = runs[i];
            ModelConfig config = model.Config(tokenizer.VocabSize, a.MaxLength);
            string configPath = Path.Combine(configs, model.Name + ".json");
            if (!File.Exists(configPath) || File.ReadAllText(configPath) != config.ToJson()) AtomicFile.WriteAllText(configPath, config.ToJson());
            var run = SweepRun.In(a.Out, model, steps);
            string position = $"[{i + 1}/{runs.Count}] {run.Name}";
            if (run.Finished)
            {
                ++kept;
                output.WriteLine($"{position}: finished before, kept");
            }
            else
            {
                output.WriteLine($"{position}: {steps} steps of {a.Batch} pairs" + (run.LatestStep is long from ? $", resuming at step {from}" : ""));
                Train(run, configPath, a, backend);
            }
            var result = new SweepResult(run, config, run.ReadCurve());
            results.Add(result);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {result.NonEmbeddingParameters:N0} non-embedding parameters, {result.Final.Tokens:N0} tokens, {result.TrainingFlops:G3} FLOPs: " +
                $"held-out loss {result.Final.Loss:F4}, accuracy {result.Final.Accuracy:P1}"));
        }
        output.WriteLine($"{runs.Count} runs: {runs.Count - kept} trained, {kept} kept as they were");

        var report = SweepReport.Create(results, grid, recipe, a.Bootstrap);
        report.Write(a.Out, output);
        bool plotted = SweepPlot.Write(report, Path.Combine(a.Out, SweepPlot.FileName));
        output.WriteLine($"wrote {SweepReport.JsonFileName}, {SweepReport.TableFileName}" +
            (plotted ? $" and {SweepPlot.FileName}" : $" (no {SweepPlot.FileName}: no run has a finite held-out loss)") + $" to {Path.GetFullPath(a.Out)}");
        // The compute fit is the sweep's result: without it (too few runs, or no falling trend) the command fails, after
        // writing every file. The parameter fit is over one run per size and is only reported: its failure, such as no
        // trend across sizes in a short sweep, leaves the exit code 0.
        if (report.ComputeFitError is { } error) throw new InvalidDataException($"the power-law fit of held-out loss against compute failed: {error}");
        return 0;
    }

    /// <summary>
    /// The recipe every run of the sweep shares, saved in DIR/recipe.json by the first sweep of DIR; a later one with
    /// another recipe is refused, since its runs would not compare with the finished ones it keeps.
    /// </summary>
    private static JsonObject RequireSameRecipe(Arguments a)
    {
        var recipe = new JsonObject
        {
            ["data"] = new JsonArray([.. a.Data.Select(d => JsonValue.Create(Path.GetFullPath(d)))]),
            ["data_options"] = a.Loading.ToString(),
            ["tokenizer"] = a.Tokenizer is null ? "byte" : Path.GetFullPath(a.Tokenizer),
            ["batch"] = a.Batch, ["max_length"] = a.MaxLength, ["eval_fraction"] = a.EvalFraction, ["evals"] = a.Evaluations,
            ["lr"] = a.LearningRate ?? TrainCommand.ScratchLearningRate, ["schedule"] = "cosine", ["seed"] = a.Seed,
        };
        string path = Path.Combine(a.Out, RecipeFileName), text = recipe.ToJsonString(new(JsonLines.Readable) { WriteIndented = true }) + "\n";
        if (!File.Exists(path))
            AtomicFile.WriteAllText(path, text);
        else if (File.ReadAllText(path) != text)
            throw new UsageException($"'{a.Out}' was swept with another recipe ({path}); continue it with the same data and options, or choose another --out");
        return recipe;
    }

    /// <summary>Trains (or resumes) <paramref name="run"/> through the train command, its log appended to the run's train.log.</summary>
    private static void Train(SweepRun run, string configPath, Arguments a, Backend backend)
    {
        long every = Math.Max(1, run.Steps / a.Evaluations);
        var args = new List<string>(a.Data)
        {
            "--out", run.Directory, "--config", configPath, "--steps", Invariant(run.Steps), "--batch", Invariant(a.Batch),
            "--max-length", Invariant(a.MaxLength), "--eval-fraction", Invariant(a.EvalFraction), "--eval-every", Invariant(every),
            "--checkpoint-every", Invariant(every), "--schedule", "cosine", "--seed", Invariant(a.Seed),
            "--metrics", run.MetricsPath, "--resume",
        };
        if (a.LearningRate is double lr) args.AddRange(["--lr", Invariant(lr)]);
        if (a.Tokenizer is not null) args.AddRange(["--tokenizer", a.Tokenizer]);

        var options = new TrainOptions();
        var train = new Command("train");
        foreach (Argument argument in options.Arguments) train.Arguments.Add(argument);
        foreach (Option option in options.Options) train.Options.Add(option);
        ParseResult parsed = train.Parse(args);
        if (parsed.Errors.Count > 0)
            throw new InvalidOperationException($"the sweep built a train command line that does not parse: {string.Join(" ", parsed.Errors.Select(e => e.Message))}");

        Directory.CreateDirectory(run.Directory);
        using var log = new StreamWriter(Path.Combine(run.Directory, SweepRun.LogFileName), append: true) { AutoFlush = true };
        log.WriteLine($"worldpm sweep: train {string.Join(' ', args)}");
        TrainCommand.Run(options.Read(parsed) with { Loading = a.Loading }, log, terminal: null, backend);
    }

    private static SweepModel[]? ParseModels(System.CommandLine.Parsing.ArgumentResult result)
    {
        var sizes = new List<SweepModel>();
        foreach (string item in Items(result))
        {
            if (SweepModel.TryParse(item, out string? error) is { } model) sizes.Add(model);
            else
            {
                result.AddError($"--models {error}.");
                return null;
            }
        }
        if (sizes.Count == 0) result.AddError("--models lists no model size.");
        return sizes.Distinct().ToArray();
    }

    private static long[]? ParseSteps(System.CommandLine.Parsing.ArgumentResult result)
    {
        var counts = new List<long>();
        foreach (string item in Items(result))
        {
            if (long.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out long steps) && steps >= 1) counts.Add(steps);
            else
            {
                result.AddError($"--steps '{item}' is not a step count of 1 or more.");
                return null;
            }
        }
        if (counts.Count == 0) result.AddError("--steps lists no step count.");
        return counts.Distinct().ToArray();
    }

    private static IEnumerable<string> Items(System.CommandLine.Parsing.ArgumentResult result) =>
        result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Describe(SweepGrid grid) =>
        $"{grid.Models.Count} sizes {string.Join(",", grid.Models.Select(m => $"{m.Hidden}x{m.Layers}"))} by steps {string.Join(",", grid.Steps)}";

    private static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);
}
