using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Spectre.Console;
using WorldPM.Data;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm prepare DATA... --out STORE</c>: streams preference data (every format <c>train</c> reads, detected per file),
/// tokenizes it with the chat template and writes a token store (<see cref="TokenStore"/>) that <c>train</c> and
/// <c>eval</c> read by memory map in place of the data (<see cref="TokenStorePreparation"/>: bounded memory whatever
/// the data size). Prints what each path gave and a summary, or with
/// <c>--json</c> one object.
/// </summary>
internal static class PrepareCommand
{
    private sealed record Arguments(string[] Data, string Out, string? Tokenizer, int? MaxLength, ScoringToken ScoringToken,
        string? MarginFrom, bool Json, DataLoadOptions Loading);

    public static Command Create(IAnsiConsole? terminal)
    {
        var data = CommonOptions.DataFiles("Preference data: files or directories (formats detected per file, as train reads them).");
        var output = new Option<string>("--out") { Description = "The token store file to write (replaced at once when complete).", Required = true, HelpName = "STORE" };
        var tokenizer = CommonOptions.Tokenizer("byte; it must be the tokenizer of the model that trains on or evaluates the store");
        var maxLength = CommonOptions.MaxLength($"{ModelInputs.DefaultMaxLength}; train and eval must use the same");
        var scoringToken = new Option<ScoringToken>("--scoring-token")
        {
            Description = "The token the template ends each sequence with, as the model's config has it: endoftext (default) or im_end.",
            DefaultValueFactory = _ => ScoringToken.EndOfText,
            HelpName = "endoftext|im_end",
            CustomParser = r => TrainOptions.ParseScoringToken(r) ?? ScoringToken.EndOfText,
        };
        var marginFrom = new Option<string?>("--margin-from")
        {
            Description = "Store each pair's margin from this graded field of the data (as train's --margin-from reads it).",
            HelpName = "FIELD",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: store, pairs, tokens, truncated pairs, throughput, files." };
        var loading = new DataOptions();
        var command = new Command("prepare", "Tokenize preference data once into a memory-mapped token store for train and eval (bounded memory whatever the data size).")
        {
            data, output, tokenizer, maxLength, scoringToken, marginFrom, json,
        };
        foreach (Option option in loading.All) command.Options.Add(option);
        command.SetAction(r => Run(new Arguments(r.GetValue(data)!, r.GetValue(output)!, r.GetValue(tokenizer), r.GetValue(maxLength),
            r.GetValue(scoringToken), r.GetValue(marginFrom), r.GetValue(json), loading.Read(r) with { MarginFrom = r.GetValue(marginFrom) }),
            r.InvocationConfiguration.Output, terminal));
        return command;
    }

    private static int Run(Arguments a, TextWriter output, IAnsiConsole? terminal)
    {
        DataInputs.RequireExisting(a.Data, "data file");
        string store = Path.GetFullPath(a.Out);
        if (Directory.Exists(store)) throw new UsageException($"--out '{a.Out}' is a directory; it must name the store file to write");
        // A signal stops the run at its next pair: the store's temporary file and spills are removed, nothing is
        // written under --out. Listened for before the first file is made (the writability probe), so that no signal
        // finds a file of this run that its default action would leave behind.
        using var signals = new PreparationSignals();
        RequireWritable(a.Out, store);
        var (tokenizer, tokenizerName) = ModelInputs.Tokenizer(a.Tokenizer);
        int maxLength = a.MaxLength ?? ModelInputs.DefaultMaxLength;
        TextWriter? log = a.Json ? null : output;
        var clock = Stopwatch.StartNew();
        TokenStorePreparation Prepare(Action<PreparationProgress>? progress) =>
            TokenStorePreparation.Run(a.Data, store, a.Loading, tokenizer, tokenizerName, a.ScoringToken, maxLength, progress,
                signals.Token);
        TokenStorePreparation prepared;
        try
        {
            prepared = terminal is not null && !a.Json
                ? LiveProgressBar.Show(terminal, $"preparing {a.Out}", Math.Max(1, a.Data.Sum(TokenStorePreparation.InputBytes)), 0,
                    bar => Prepare(p => bar.Report(p.BytesRead, $"{p.Pairs} pairs, {p.Tokens} tokens")))
                : Prepare(null);
            signals.EndPreparation();
        }
        catch (OperationCanceledException e) when (signals.Interrupted(e, $"preparing {a.Out}") is { } interrupted)
        {
            throw interrupted;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        foreach (PreparedPath path in prepared.Paths) DataInputs.Report(path.Path, path.Result, "data", log);
        Summarize(a, store, prepared.Statistics, prepared.BadRecords, seconds, output);
        return 0;
    }

    private static void Summarize(Arguments a, string store, TruncationStatistics statistics, int bad, double seconds, TextWriter output)
    {
        using TokenStore written = TokenStore.Open(store);
        double pairsPerSecond = written.Count / Math.Max(seconds, 1e-9), tokensPerSecond = written.Tokens / Math.Max(seconds, 1e-9);
        if (a.Json)
        {
            var files = new JsonArray();
            foreach (TokenStoreSource s in written.Metadata.Sources)
                files.Add(new JsonObject
                {
                    ["path"] = s.Path, ["format"] = s.Format, ["pairs"] = s.Pairs, ["bad_records"] = s.BadRecords,
                    ["skipped_records"] = s.SkippedRecords, ["tied_comparisons"] = s.TiedComparisons,
                });
            output.WriteLine(new JsonObject
            {
                ["store"] = store, ["pairs"] = written.Count, ["tokens"] = written.Tokens, ["bad_records"] = bad,
                ["truncated_pairs"] = statistics.TruncatedPairs, ["tokenizer"] = written.Metadata.Tokenizer,
                ["max_length"] = written.MaxLength, ["scoring_token"] = written.Metadata.ScoringToken,
                ["bytes"] = new FileInfo(store).Length, ["seconds"] = seconds,
                ["pairs_per_second"] = pairsPerSecond, ["tokens_per_second"] = tokensPerSecond, ["files"] = files,
            }.ToJsonString());
            return;
        }
        output.WriteLine($"tokens: {statistics}");
        output.WriteLine($"wrote {store}: {written.Count} pairs, {written.Tokens} tokens, {bad} bad records " +
            $"({new FileInfo(store).Length} bytes; tokenizer {written.Metadata.Tokenizer}, max length {written.MaxLength}, " +
            $"scoring token {written.Metadata.ScoringToken}) in {seconds:F1} s: {pairsPerSecond:F0} pairs/s, {tokensPerSecond:F0} tokens/s");
    }

    /// <summary>Fails with a usage error naming --out when its folder is missing or cannot take the store's temp file.</summary>
    private static void RequireWritable(string given, string store)
    {
        string folder = Path.GetDirectoryName(store)!;
        if (!Directory.Exists(folder)) throw new UsageException($"--out '{given}': folder '{folder}' does not exist");
        try
        {
            using var probe = new FileStream(Path.Combine(folder, $".worldpm-store-probe-{Guid.NewGuid():N}.tmp"), FileMode.CreateNew,
                FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UsageException($"--out '{given}' cannot be written: {e.Message}");
        }
    }
}
