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
/// <c>eval</c> read by memory map in place of the data. Pairs are encoded a block at a time on every core and written as
/// they come, so memory stays bounded by the block, not the data. Prints what each path gave and a summary, or with
/// <c>--json</c> one object.
/// </summary>
internal static class PrepareCommand
{
    /// <summary>Pairs encoded together (in parallel) before they are written in order.</summary>
    private const int Block = 1024;

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
        RequireWritable(a.Out, store);
        var (tokenizer, tokenizerName) = ModelInputs.Tokenizer(a.Tokenizer);
        int maxLength = a.MaxLength ?? ModelInputs.DefaultMaxLength;
        var encoder = new PairEncoder(new ChatTemplate(tokenizer, a.ScoringToken), maxLength);
        TextWriter? log = a.Json ? null : output;
        var clock = Stopwatch.StartNew();
        var results = new List<(string Path, LoadResult Result)>();
        long totalBytes = a.Data.Sum(InputBytes);
        void Write(Action<long, long, long> progress) =>
            TokenStoreWriter.Write(store, tokenizer, tokenizerName, a.ScoringToken, maxLength, a.MarginFrom, writer =>
            {
                var sources = new List<TokenStoreSource>();
                long doneBytes = 0;
                foreach (string path in a.Data)
                {
                    var block = new List<(PreferencePair Pair, int Source)>(Block);
                    void Flush()
                    {
                        var encoded = new TokenizedPair[block.Count];
                        Parallel.For(0, block.Count, i => encoded[i] = encoder.Encode(block[i].Pair));
                        for (int i = 0; i < encoded.Length; i++) writer.Add(encoded[i], block[i].Source);
                        block.Clear();
                    }
                    int first = sources.Count;
                    LoadResult result = PreferenceDataset.Stream(path, a.Loading, (pair, at) =>
                    {
                        block.Add((pair, first + at.File));
                        if (block.Count < Block) return;
                        Flush();
                        progress(doneBytes + at.BytesRead, writer.Pairs, writer.Tokens);
                    });
                    Flush();
                    doneBytes += InputBytes(path);
                    progress(doneBytes, writer.Pairs, writer.Tokens);
                    results.Add((path, result));
                    sources.AddRange(result.Files.Select(f => new TokenStoreSource(f.Path,
                        f.Format == DataFormat.Auto ? "unknown" : DataFormatNames.Name(f.Format), f.Pairs, f.BadRecords, f.SkippedRecords, f.TiedComparisons)));
                }
                return sources;
            });
        if (terminal is not null && !a.Json)
            LiveProgressBar.Show(terminal, $"preparing {a.Out}", Math.Max(1, totalBytes), 0, bar =>
            {
                Write((bytes, pairs, tokens) => bar.Report(bytes, $"{pairs} pairs, {tokens} tokens"));
                return 0;
            });
        else
            Write((_, _, _) => { });
        double seconds = clock.Elapsed.TotalSeconds;
        foreach (var (path, result) in results) DataInputs.Report(path, result, "data", log);
        Summarize(a, store, encoder.Statistics, results.Sum(r => r.Result.BadRecords.Count), seconds, output);
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

    /// <summary>The bytes on disk of a data path (a folder's files all counted), the progress bar's scale.</summary>
    private static long InputBytes(string path) =>
        Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length)
            : new FileInfo(path).Length;
}
