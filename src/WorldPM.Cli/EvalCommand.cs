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
/// mean Bradley-Terry loss and mean reward margin overall, per subset, and split by whether the chosen
/// response is the shorter or the longer one; <c>--json</c> prints all of it as one JSON object. On an
/// interactive terminal (and without --json) a live bar shows the scoring.
/// </summary>
internal static class EvalCommand
{
    private sealed record Arguments(string ModelDirectory, string[] Data, string? Tokenizer, int? MaxLength, int Batch, bool Json,
        DataLoadOptions Loading, bool AllowNonFinite);

    public static Command Create(IAnsiConsole? terminal)
    {
        var model = CommonOptions.ModelDirectory();
        var data = CommonOptions.DataFiles("Evaluation data: files or directories (formats detected per file; subsets from the data).");
        var tokenizer = CommonOptions.Tokenizer("the tokenizer files in MODEL_DIR or its run directory, else byte");
        var maxLength = CommonOptions.MaxLength($"{ModelInputs.DefaultMaxLength}, or the model's max_position_embeddings if smaller");
        var batch = CommonOptions.Batch("Pairs scored per batch.", 16);
        var json = new Option<bool>("--json") { Description = "Print one JSON object: model, overall metrics, subsets, length_bias, data counts." };
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var loading = new DataOptions();
        var command = new Command("eval", "Evaluate a reward model checkpoint on preference data: accuracy, BT loss and margin, per subset and by length.")
        {
            model, data, tokenizer, maxLength, batch, json, allowNonFinite,
        };
        foreach (Option option in loading.All) command.Options.Add(option);
        command.SetAction(r => Run(new Arguments(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(tokenizer), r.GetValue(maxLength),
            r.GetValue(batch), r.GetValue(json), loading.Read(r), r.GetValue(allowNonFinite)), r.InvocationConfiguration.Output, terminal, BackendSelection.Of(r)));
        return command;
    }

    private static int Run(Arguments a, TextWriter output, IAnsiConsole? terminal, Backend backend)
    {
        CheckpointInputs m = CheckpointInputs.Resolve(a.ModelDirectory, a.Tokenizer, a.MaxLength, a.AllowNonFinite);
        DataInputs.RequireExisting(a.Data, "data file");

        TextWriter? log = a.Json ? null : output;
        log?.WriteLine($"model {m.Checkpoint} (tokenizer {m.TokenizerName}, max length {m.MaxLength})");
        LoadedData data = DataInputs.Load(a.Data, a.Loading, "data", log);
        if (data.Pairs.Count == 0) throw new InvalidDataException($"no preference pairs in {string.Join(", ", a.Data)}");
        ScoringToken scoring = ModelInputs.CheckpointConfig(m.Checkpoint).ScoringToken;
        var encoder = new PairEncoder(new ChatTemplate(m.Tokenizer, scoring), m.MaxLength);
        List<TokenizedPair> pairs = encoder.EncodeAll(data.Pairs);
        log?.WriteLine($"tokens: {encoder.Statistics}");

        using var context = WorldPMContext.Create(backend);
        using RewardModel rewardModel = m.Load(context);
        EvaluationReport report = terminal is not null && !a.Json
            ? LiveProgressBar.Show(terminal, $"scoring {pairs.Count} pairs", pairs.Count, 0, bar =>
                Evaluator.Evaluate(rewardModel, pairs, a.Batch, done => bar.Report(done, $"scored {done}/{pairs.Count} pairs")))
            : Evaluator.Evaluate(rewardModel, pairs, a.Batch);

        if (a.Json)
        {
            JsonObject json = ReportOutput.ToJson(report);
            json["model"] = m.Checkpoint;
            json["bad_records"] = data.BadRecords;
            json["truncated_pairs"] = encoder.Statistics.TruncatedPairs;
            output.WriteLine(json.ToJsonString());
        }
        else
        {
            ReportOutput.WriteText(output, report);
        }
        return 0;
    }
}
