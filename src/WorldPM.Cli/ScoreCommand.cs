using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WorldPM.Checkpoints;
using WorldPM.Data;
using WorldPM.Evaluation;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm score MODEL_DIR</c>: the reward of each <c>--response</c> to <c>--prompt</c>, one labelled row per
/// response in order (prompt index, response index, reward, and with exactly two responses the Bradley-Terry
/// probability that the row's response is preferred over the other), or with <c>--json</c> one JSON line per response;
/// or, with <c>--file</c>, every JSONL line (<c>prompt</c> as a string or a message list, and <c>response</c>) again
/// with <c>"reward"</c> added, to stdout or atomically to <c>--output</c>. JSON output keeps text unescaped.
/// </summary>
internal static class ScoreCommand
{
    private sealed record Arguments(string ModelDirectory, string? Prompt, string[] Responses, string? File, string? Output,
        string? Tokenizer, int? MaxLength, int Batch, bool Json, bool AllowNonFinite, CudaGraphs CudaGraphs, int? MaxTokensPerBatch,
        bool NoPacking);

    private sealed record Request(IReadOnlyList<ChatTurn> Prompt, string Response);

    private sealed record FileLine(int Number, JsonObject Json);

    public static Command Create()
    {
        var model = CommonOptions.ModelDirectory();
        var prompt = new Option<string?>("--prompt") { Description = "The user's message the responses answer (default: none).", HelpName = "TEXT" };
        var responses = new Option<string[]>("--response")
        {
            Description = "A response to score; repeat for several. Prints one labelled row per response, in order.",
            HelpName = "TEXT",
            AllowMultipleArgumentsPerToken = false,
        };
        var file = new Option<string?>("--file") { Description = "JSONL to score: each line a prompt (string or message list) and a response.", HelpName = "F" };
        var outputFile = new Option<string?>("--output") { Description = "With --file: write the scored lines here (atomically) instead of stdout.", HelpName = "F" };
        var tokenizer = CommonOptions.Tokenizer("the tokenizer files in MODEL_DIR or its run directory, else byte");
        var maxLength = CommonOptions.MaxLength($"{ModelInputs.DefaultMaxLength}, or the model's max_position_embeddings if smaller");
        var batch = CommonOptions.Batch("Sequences scored per batch.", 16);
        var json = new Option<bool>("--json") { Description = "With --response: one JSON line per response (prompt_index, response_index, response, reward, and preference with two responses)." };
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var cudaGraphs = CommonOptions.CudaGraphs();
        var maxTokens = CommonOptions.MaxTokensPerBatch("batch of sequences");
        var noPacking = CommonOptions.NoPacking();
        var command = new Command("score", "Print the reward a model gives responses to a prompt, or add \"reward\" to every line of a JSONL file.")
        {
            model, prompt, responses, file, outputFile, tokenizer, maxLength, batch, maxTokens, noPacking, json, allowNonFinite, cudaGraphs,
        };
        command.SetAction(r => Run(new Arguments(r.GetValue(model)!, r.GetValue(prompt), r.GetValue(responses) ?? [], r.GetValue(file),
            r.GetValue(outputFile), r.GetValue(tokenizer), r.GetValue(maxLength), r.GetValue(batch), r.GetValue(json),
            r.GetValue(allowNonFinite), r.GetValue(cudaGraphs), r.GetValue(maxTokens), r.GetValue(noPacking)),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, BackendSelection.Of(r)));
        return command;
    }

    private static int Run(Arguments a, TextWriter output, TextWriter error, Backend backend)
    {
        CheckInputs(a);
        CheckpointInputs m = CheckpointInputs.Resolve(a.ModelDirectory, a.Tokenizer, a.MaxLength, a.AllowNonFinite);

        List<FileLine>? lines = a.File is null ? null : ReadLines(a.File);
        List<Request> requests = lines?.Select(line => ToRequest(line, a.File!)).ToList()
            ?? a.Responses.Select(r => new Request(PromptJson.FromText(a.Prompt), r)).ToList();

        using var context = WorldPMContext.Create(backend);
        using RewardModel rewardModel = m.Load(context, cudaGraphs: a.CudaGraphs);
        var template = new ChatTemplate(m.Tokenizer, rewardModel.Config.ScoringToken);
        string Name(int i) => lines is null ? $"--response {i + 1}" : $"{a.File}:{lines[i].Number}";
        int batches = 0;
        float[] rewards = Score(rewardModel, requests.Select(r => template.Encode(r.Prompt, r.Response, m.MaxLength).Ids).ToList(),
            new BatchSizing(a.Batch, a.MaxTokensPerBatch, CommonOptions.Layout(a.NoPacking)), Name, _ => batches++);
        if (rewardModel.ScoringReplays > 0)
            error.WriteLine($"cuda graphs: {rewardModel.ScoringReplays} of {batches} batches replayed from a recording");
        FiniteRewards.Require(rewards, Name);

        if (lines is null)
        {
            WriteRows(output, a.Responses, rewards, a.Json);
            return 0;
        }
        var text = new StringBuilder();
        for (int i = 0; i < lines.Count; ++i)
        {
            lines[i].Json["reward"] = ReportOutput.Finite(rewards[i]);
            text.Append(JsonLines.Line(lines[i].Json)).Append('\n');
        }
        if (a.Output is null) output.Write(text.ToString());
        else AtomicFile.WriteAllText(a.Output, text.ToString());
        return 0;
    }

    /// <summary>One row (or JSON line) per response to the one prompt; with exactly two responses each row also holds
    /// σ(r_this − r_other), the probability that it is preferred over the other.</summary>
    private static void WriteRows(TextWriter output, string[] responses, float[] rewards, bool json)
    {
        double? Preference(int i) => rewards.Length == 2 ? BradleyTerry.PreferenceProbability((double)rewards[i] - rewards[1 - i]) : null;
        if (!json)
            output.WriteLine(rewards.Length == 2 ? "prompt  response  reward          P(preferred)" : "prompt  response  reward");
        for (int i = 0; i < rewards.Length; i++)
        {
            if (json)
            {
                var line = new JsonObject
                {
                    ["prompt_index"] = 0,
                    ["response_index"] = i,
                    ["response"] = responses[i],
                    ["reward"] = ReportOutput.Finite(rewards[i]),
                };
                if (Preference(i) is double p) line["preference"] = p;
                output.WriteLine(JsonLines.Line(line));
                continue;
            }
            string reward = rewards[i].ToString("R", CultureInfo.InvariantCulture);
            string preference = Preference(i) is double q ? "  " + q.ToString("F6", CultureInfo.InvariantCulture) : "";
            output.WriteLine($"{0,-6}  {i,-8}  {reward,-14}{preference}".TrimEnd());
        }
    }

    private static void CheckInputs(Arguments a)
    {
        if (a.File is null && a.Responses.Length == 0)
            throw new UsageException("nothing to score: give --response TEXT (with --prompt TEXT) or --file F");
        if (a.File is not null && (a.Responses.Length > 0 || a.Prompt is not null))
            throw new UsageException("--file scores the prompts and responses in the file; leave out --prompt and --response");
        if (a.Json && a.File is not null)
            throw new UsageException("--json is for --response rows; --file output is JSON Lines already");
        if (a.Output is not null && a.File is null)
            throw new UsageException("--output writes the scored lines of --file; without --file rewards go to stdout");
        if (a.File is not null && !File.Exists(a.File))
            throw new UsageException($"score file '{a.File}' does not exist");
    }

    /// <summary>The rewards of <paramref name="sequences"/>, in batches cut by <paramref name="batching"/>
    /// (<paramref name="name"/> names a sequence longer than its token budget; <paramref name="scored"/> sees each
    /// batch after its forward). <c>serve</c> scores through it too.</summary>
    internal static float[] Score(RewardModel model, List<int[]> sequences, BatchSizing batching, Func<int, string> name,
        Action<SequenceBatch>? scored = null)
    {
        var rewards = new float[sequences.Count];
        for (int start = 0, count; start < sequences.Count; start += count)
        {
            count = batching.Next(start, sequences.Count, i => [sequences[i].Length], name);
            var batch = SequenceBatch.FromSequences(model.Config, sequences.GetRange(start, count), batching.Layout);
            model.Score(batch).CopyTo(rewards, start);
            scored?.Invoke(batch);
        }
        return rewards;
    }

    /// <summary>The non-blank lines of <paramref name="file"/> as JSON objects; anything else is an error naming file and line.</summary>
    private static List<FileLine> ReadLines(string file)
    {
        var lines = new List<FileLine>();
        int number = 0;
        foreach (string line in File.ReadLines(file))
        {
            ++number;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                lines.Add(new FileLine(number, JsonNode.Parse(line) as JsonObject ?? throw new InvalidDataException("the line is not a JSON object")));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{file}:{number}: not JSON: {e.Message}", e);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{file}:{number}: {e.Message}", e);
            }
        }
        return lines;
    }

    private static Request ToRequest(FileLine line, string file)
    {
        string At(string message) => $"{file}:{line.Number}: {message}";
        if (line.Json["response"] is not JsonValue response || response.GetValueKind() != JsonValueKind.String)
            throw new InvalidDataException(At("\"response\" should be a string"));
        try
        {
            return new Request(PromptJson.Turns(line.Json["prompt"]), response.GetValue<string>());
        }
        catch (FormatException e)
        {
            throw new InvalidDataException(At(e.Message), e);
        }
    }
}
