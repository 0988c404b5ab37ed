using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;
using WorldPM.Checkpoints;
using WorldPM.Data;
using WorldPM.Evaluation;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm eval MODEL_DIR DATA...</c>: scores both responses of every pair and prints pairwise accuracy,
/// mean loss (Bradley-Terry, or the loss the checkpoint was trained with, or --loss: <see cref="EvalLossColumn"/>) and mean reward margin overall, per subset, and split by whether the chosen
/// response is the shorter or the longer one; <c>--style</c> adds the style-bias report (<see cref="StyleReport"/>:
/// length and markdown features, model against labels) and <c>--style-plot FILE</c> also draws its PNG;
/// <c>--json</c> prints all of it as one JSON object. DATA may be a token store from <c>worldpm prepare</c> (read by memory
/// map; its pairs keep the style counts the report reads); raw DATA is prepared into a temporary one first
/// (<see cref="TemporaryTokenStore"/>), so both take the same streamed path. On an
/// interactive terminal (and without --json) a live bar shows the scoring.
/// </summary>
internal static class EvalCommand
{
    private sealed record Arguments(string ModelDirectory, string[] Data, string? Tokenizer, int? MaxLength, int Batch, bool Json,
        DataLoadOptions Loading, bool AllowNonFinite, bool Style, string? StylePlot, LossChoice Loss, CudaGraphs CudaGraphs,
        int? MaxTokensPerBatch, bool NoPacking);

    public static Command Create(IAnsiConsole? terminal)
    {
        var model = CommonOptions.ModelDirectory();
        var data = CommonOptions.DataFiles("Evaluation data: files or directories (formats detected per file; subsets from the data).");
        var tokenizer = CommonOptions.Tokenizer("the tokenizer files in MODEL_DIR or its run directory, else byte");
        var maxLength = CommonOptions.MaxLength($"{ModelInputs.DefaultMaxLength}, or the model's max_position_embeddings if smaller");
        var batch = CommonOptions.Batch("Pairs scored per batch.", 16);
        var maxTokens = CommonOptions.MaxTokensPerBatch("batch of pairs");
        var noPacking = CommonOptions.NoPacking();
        var json = new Option<bool>("--json") { Description = "Print one JSON object: model, overall metrics, subsets, length_bias, data counts." };
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var style = new Option<bool>("--style")
        {
            Description = "Add the style-bias report: per feature (length in tokens and characters, markdown headers, list items, bold, " +
                "italic, code blocks, links, emoji) accuracy and margin by chosen-minus-rejected difference, Spearman of margin and " +
                "difference, and how often the labels and the model prefer the response with more of it (\"style\" in --json).",
        };
        var stylePlot = new Option<string?>("--style-plot")
        {
            Description = "With the style report (implies --style): write a PNG of accuracy by length-difference bucket here.",
            HelpName = "FILE",
        };
        var cudaGraphs = CommonOptions.CudaGraphs();
        var loading = new DataOptions();
        var losses = new LossOptions("evaluation", defaultLoss: null,
            " Default: as recorded with the checkpoint (its training state), else bt; --loss replaces the recorded loss and its margin field.");
        var command = new Command("eval", "Evaluate a reward model checkpoint on preference data: accuracy, loss (BT, or the loss the run was trained with) and margin, per subset and by length.")
        {
            model, data, tokenizer, maxLength, batch, maxTokens, noPacking, json, allowNonFinite, style, stylePlot, cudaGraphs,
        };
        foreach (Option option in losses.All) command.Options.Add(option);
        foreach (Option option in loading.All) command.Options.Add(option);
        command.SetAction(r => Run(new Arguments(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(tokenizer), r.GetValue(maxLength),
            r.GetValue(batch), r.GetValue(json), loading.Read(r), r.GetValue(allowNonFinite), r.GetValue(style) || r.GetValue(stylePlot) is not null,
            r.GetValue(stylePlot), losses.Read(r), r.GetValue(cudaGraphs), r.GetValue(maxTokens), r.GetValue(noPacking)),
            r.InvocationConfiguration.Output, terminal, BackendSelection.Of(r)));
        return command;
    }

    private static int Run(Arguments a, TextWriter output, IAnsiConsole? terminal, Backend backend)
    {
        CheckpointInputs m = CheckpointInputs.Resolve(a.ModelDirectory, a.Tokenizer, a.MaxLength, a.AllowNonFinite);
        DataInputs.RequireExisting(a.Data, "data file");
        EvalLossColumn column = EvalLossColumn.Choose(a.Loss, TrainingRun.RecordedObjective(m.Checkpoint));
        if (a.StylePlot is not null && Path.GetDirectoryName(Path.GetFullPath(a.StylePlot)) is { } folder && !Directory.Exists(folder))
            throw new UsageException($"--style-plot: folder '{folder}' does not exist");

        TextWriter? log = a.Json ? null : output;
        log?.WriteLine($"model {m.Checkpoint} (tokenizer {m.TokenizerName}, max length {m.MaxLength})");
        ScoringToken scoring = ModelInputs.CheckpointConfig(m.Checkpoint).ScoringToken;
        string? storePath = TokenStoreInputs.StorePath(a.Data, "data");
        using TokenStore? store = storePath is null ? null
            : TokenStoreInputs.Open(storePath, m.Tokenizer, m.TokenizerName, m.MaxLength, scoring, column.MarginFrom, "data", log);
        if (store is not null && a.Style && !store.HasStyle)
            throw new UsageException($"--style: token store '{storePath}' was prepared before stores kept the responses' style " +
                "counts; prepare it again (worldpm prepare) to get them");
        using TemporaryTokenStore? prepared = storePath is not null ? null
            : TemporaryTokenStore.Prepare(a.Data, null, column.Loading(a.Loading), m.Tokenizer, m.TokenizerName, scoring, m.MaxLength, "data", log);
        TokenStore pairs = store ?? prepared!.Store;
        int badRecords;
        long truncatedPairs;
        if (store is not null)
        {
            if (store.Count == 0) throw new InvalidDataException($"no preference pairs in {storePath}");
            (badRecords, truncatedPairs) = (TokenStoreInputs.BadRecords(store), store.Metadata.TruncatedPairs);
        }
        else
        {
            if (prepared!.Store.Count == 0) throw new InvalidDataException($"no preference pairs in {string.Join(", ", a.Data)}");
            var (without, first) = prepared.PairsWithoutMargin(null);
            column.RequireMargins(without, prepared.Store.Count, first);
            TruncationStatistics statistics = prepared.Preparation.Statistics;
            log?.WriteLine($"tokens: {statistics}");
            (badRecords, truncatedPairs) = (prepared.Preparation.BadRecords, statistics.TruncatedPairs);
        }

        using var context = WorldPMContext.Create(backend);
        using RewardModel rewardModel = m.Load(context, cudaGraphs: a.CudaGraphs);
        var batching = new BatchSizing(a.Batch, a.MaxTokensPerBatch, CommonOptions.Layout(a.NoPacking));
        double[] deltas = terminal is not null && !a.Json
            ? LiveProgressBar.Show(terminal, $"scoring {pairs.Count} pairs", pairs.Count, 0, bar =>
                Evaluator.RewardDifferences(rewardModel, pairs, batching, done => bar.Report(done, $"scored {done}/{pairs.Count} pairs")))
            : Evaluator.RewardDifferences(rewardModel, pairs, batching);
        EvaluationReport report = column.Report(pairs, deltas);
        StyleReport? style = a.Style ? StyleReport.Build(pairs.Styles, pairs, deltas) : null;
        if (style is not null && a.StylePlot is not null) StylePlot.Write(style, a.StylePlot);

        if (a.Json)
        {
            JsonObject json = ReportOutput.ToJson(report);
            json["model"] = m.Checkpoint;
            json["loss"] = column.Loss.Name;
            if (column.Loss.Settings.Length > 0) json["loss_settings"] = column.Loss.Settings;
            if (column.MarginFrom is not null) json["margin_from"] = column.MarginFrom;
            json["bad_records"] = badRecords;
            json["truncated_pairs"] = truncatedPairs;
            if (style is not null) json["style"] = StyleOutput.ToJson(style);
            output.WriteLine(json.ToJsonString());
        }
        else
        {
            // Bradley-Terry from the checkpoint or by default prints as it always has; any other column says which it is.
            if (!column.IsBradleyTerry || column.LossOrigin == "--loss") output.WriteLine(column.Describe());
            ReportOutput.WriteText(output, report, column.Label);
            if (style is not null) StyleOutput.WriteText(output, style);
            if (a.StylePlot is not null) output.WriteLine($"wrote {a.StylePlot}");
        }
        return 0;
    }
}
