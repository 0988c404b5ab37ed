using System.CommandLine;
using WorldPM.Checkpoints;
using WorldPM.Cli.Serving;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm serve MODEL_DIR</c>: a reward-model HTTP server for RLHF loops (<see cref="RewardServer"/>; endpoints
/// and schemas in the README's "Serving" section). Prints one line when it listens and one when it has loaded the
/// model; Ctrl-C or SIGTERM stops it after the requests it accepted are answered, exit 0.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelDirectory();
        var host = new Option<string>("--host") { Description = "The address to listen at (0.0.0.0 for every interface).", DefaultValueFactory = _ => "127.0.0.1", HelpName = "ADDRESS" };
        var port = new Option<int>("--port") { Description = "The TCP port (0: any free one, printed at start).", DefaultValueFactory = _ => 8080, HelpName = "N" }
            .Must(p => p is >= 0 and <= 65535, "between 0 and 65535");
        var defaults = new ServeLimits();
        var maxBatchTokens = new Option<int>("--max-batch-tokens") { Description = "Most token rows in one forward batch: real tokens (packed), or sequences x longest with --no-packing; at least --max-length.", DefaultValueFactory = _ => defaults.MaxBatchTokens, HelpName = "N" }.AtLeast(1);
        var maxWait = new Option<int>("--max-wait-ms") { Description = "How long a request waits for others to share its batch.", DefaultValueFactory = _ => defaults.MaxWaitMs, HelpName = "MS" }.AtLeast(0);
        var batchWait = new Option<string>("--batch-wait") { Description = "When a request waits --max-wait-ms for company: only while requests overlap (concurrent), or always.", DefaultValueFactory = _ => "concurrent", HelpName = "concurrent|always" }
            .Must(v => v is "concurrent" or "always", "concurrent or always");
        var maxQueue = new Option<int>("--max-queue") { Description = "Sequences queued or being scored beyond which requests get 429.", DefaultValueFactory = _ => defaults.MaxQueuedSequences, HelpName = "N" }.AtLeast(1);
        var maxItems = new Option<int>("--max-items") { Description = "Items (or pairs) one request may hold (413 beyond).", DefaultValueFactory = _ => defaults.MaxItems, HelpName = "N" }.AtLeast(1);
        var maxChars = new Option<int>("--max-chars") { Description = "Characters of text one request may hold (413 beyond).", DefaultValueFactory = _ => defaults.MaxCharacters, HelpName = "N" }.AtLeast(1);
        var tokenFile = new Option<string?>("--token-file") { Description = "Require \"Authorization: Bearer TOKEN\" on /v1/ requests, TOKEN being this file's first line (off by default).", HelpName = "F" };
        var precision = new Option<Precision>("--precision") { Description = "Storage of weights and activations while scoring.", DefaultValueFactory = _ => Precision.F32, HelpName = "f32|f16|bf16" };
        var cudaGraphs = CommonOptions.CudaGraphs();
        var noPacking = CommonOptions.NoPacking();
        var tokenizer = CommonOptions.Tokenizer("the tokenizer files in MODEL_DIR or its run directory, else byte");
        var maxLength = CommonOptions.MaxLength($"{ModelInputs.DefaultMaxLength}, or the model's max_position_embeddings if smaller");
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var command = new Command("serve", "Serve a reward model over HTTP: POST /v1/score and /v1/compare, GET /healthz, /readyz and /metrics.")
        {
            model, host, port, maxBatchTokens, noPacking, maxWait, batchWait, maxQueue, maxItems, maxChars, tokenFile, precision, tokenizer, maxLength,
            allowNonFinite, cudaGraphs,
        };
        command.SetAction(r =>
        {
            var limits = new ServeLimits
            {
                MaxBatchTokens = r.GetValue(maxBatchTokens),
                Layout = CommonOptions.Layout(r.GetValue(noPacking)),
                MaxWaitMs = r.GetValue(maxWait),
                WaitWhenAlone = r.GetValue(batchWait) == "always",
                MaxQueuedSequences = r.GetValue(maxQueue),
                MaxItems = r.GetValue(maxItems),
                MaxCharacters = r.GetValue(maxChars),
            };
            var settings = new ServeSettings(r.GetValue(host)!, r.GetValue(port), limits, BearerToken(r.GetValue(tokenFile)));
            CheckpointInputs m = CheckpointInputs.Resolve(r.GetValue(model)!, r.GetValue(tokenizer), r.GetValue(maxLength),
                r.GetValue(allowNonFinite));
            // Every sequence must fit a batch alone: the budget bounds the activations, so no batch may exceed it.
            if (limits.MaxBatchTokens < m.MaxLength)
                throw new UsageException($"--max-batch-tokens {limits.MaxBatchTokens} is less than --max-length {m.MaxLength}, " +
                    "the longest sequence a request may hold: raise it, or lower --max-length");
            return Run(settings, m, r.GetValue(precision), r.GetValue(cudaGraphs), BackendSelection.Of(r),
                r.InvocationConfiguration.Output);
        });
        return command;
    }

    private static int Run(ServeSettings settings, CheckpointInputs m, Precision precision, CudaGraphs cudaGraphs, Backend backend,
        TextWriter output)
    {
        RewardServer server;
        try
        {
            server = RewardServer.StartAsync(settings, () => Load(m, precision, backend, cudaGraphs)).GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            throw new UsageException($"cannot listen at {settings.Host}:{settings.Port}: {e.Message}");
        }
        using (new AsyncDisposal(server))
        {
            output.WriteLine($"worldpm serve: listening at {server.Address} (Ctrl-C stops after the requests in flight)");
            server.ModelLoaded.ContinueWith(t => output.WriteLine($"worldpm serve: {m.Checkpoint} loaded; ready"),
                TaskContinuationOptions.OnlyOnRanToCompletion);
            server.RunUntilStoppedAsync().GetAwaiter().GetResult();
            output.WriteLine("worldpm serve: stopped");
        }
        return 0;
    }

    /// <summary>What scoring needs, built the way <c>score</c> builds it.</summary>
    internal static LoadedModel Load(CheckpointInputs m, Precision precision, Backend backend, CudaGraphs cudaGraphs = CudaGraphs.Auto)
    {
        WorldPMContext context = WorldPMContext.Create(backend);
        try
        {
            RewardModel model = m.Load(context, precision, cudaGraphs);
            return new LoadedModel(context, model, new ChatTemplate(m.Tokenizer, model.Config.ScoringToken), m.MaxLength);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static string? BearerToken(string? file)
    {
        if (file is null) return null;
        if (!File.Exists(file)) throw new UsageException($"--token-file '{file}' does not exist");
        string token = File.ReadLines(file).FirstOrDefault()?.Trim() ?? "";
        return token.Length > 0 ? token : throw new UsageException($"--token-file '{file}': the first line (the token) is empty");
    }

    private sealed class AsyncDisposal(IAsyncDisposable target) : IDisposable
    {
        public void Dispose() => target.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
