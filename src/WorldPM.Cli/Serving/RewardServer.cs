using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WorldPM.Evaluation;

namespace WorldPM.Cli.Serving;

/// <summary>Where and how <c>serve</c> listens.</summary>
internal sealed record ServeSettings(string Host, int Port, ServeLimits Limits, string? BearerToken)
{
    /// <summary>How long a stop waits for requests in flight (and the queue) to finish.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The reward-model HTTP server of <c>worldpm serve</c> (Kestrel): <c>POST /v1/score</c> and <c>/v1/compare</c>
/// through one <see cref="ScoringQueue"/>, <c>GET /healthz</c>, <c>/readyz</c> and <c>/metrics</c>. It listens at
/// once and loads the model in the background (readyz says 503 until it is loaded). A stop refuses new requests with
/// 503, lets every queued and in-flight request finish, then returns: nothing accepted is lost.
/// </summary>
internal sealed class RewardServer : IAsyncDisposable
{
    private const string JsonType = "application/json; charset=utf-8";
    private readonly WebApplication app;
    private readonly ServeSettings settings;
    private readonly ScoringQueue queue;
    private readonly Task<LoadedModel> loading;
    private readonly Task worker;
    private volatile bool stopping;

    private RewardServer(WebApplication app, ServeSettings settings, Func<LoadedModel> load)
    {
        this.app = app;
        this.settings = settings;
        queue = new ScoringQueue(settings.Limits, Metrics);
        loading = Task.Run(load);
        worker = loading.ContinueWith(t => t.IsCompletedSuccessfully ? queue.RunAsync(t.Result.Model) : Task.CompletedTask,
            TaskScheduler.Default).Unwrap();
    }

    public ServerMetrics Metrics { get; } = new();

    /// <summary>The address it listens at (the real port when 0 was asked for).</summary>
    public Uri Address => new(app.Urls.First());

    /// <summary>The model load: faulted when the checkpoint could not be loaded.</summary>
    public Task ModelLoaded => loading;

    /// <summary>Listens at <paramref name="settings"/>' address and starts loading the model with <paramref name="load"/>.</summary>
    public static async Task<RewardServer> StartAsync(ServeSettings settings, Func<LoadedModel> load)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = settings.Limits.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls($"http://{(settings.Host.Contains(':') ? $"[{settings.Host}]" : settings.Host)}:{settings.Port}");
        WebApplication app = builder.Build();
        var server = new RewardServer(app, settings, load);
        server.Map();
        await app.StartAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>Refuses new requests, finishes the queued and in-flight ones, and stops listening.</summary>
    public async Task StopAsync()
    {
        stopping = true;
        await app.StopAsync().ConfigureAwait(false);
        queue.Complete();
        await worker.ConfigureAwait(false);
    }

    /// <summary>Waits until the host is asked to stop (Ctrl-C, SIGTERM), then stops as <see cref="StopAsync"/> does.</summary>
    public async Task RunUntilStoppedAsync()
    {
        var stopRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = app.Lifetime.ApplicationStopping.Register(() =>
        {
            stopping = true;
            stopRequested.TrySetResult();
        });
        using var stopped = new CancellationTokenSource();
        Task loadFailed = loading.ContinueWith(t => t.IsFaulted ? Task.CompletedTask : Task.Delay(Timeout.Infinite, stopped.Token),
            TaskScheduler.Default).Unwrap();
        await Task.WhenAny(stopRequested.Task, loadFailed).ConfigureAwait(false);
        stopped.Cancel();
        await StopAsync().ConfigureAwait(false);
        await loading.ConfigureAwait(false);  // rethrows a failed load: the command exits with its message
    }

    public async ValueTask DisposeAsync()
    {
        if (!stopping) await StopAsync().ConfigureAwait(false);
        if (loading.IsCompletedSuccessfully) loading.Result.Dispose();
        await app.DisposeAsync().ConfigureAwait(false);
    }

    private void Map()
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () => stopping ? Results.Text("stopping\n", statusCode: 503)
            : loading.IsCompletedSuccessfully ? Results.Text("ready\n")
            : loading.IsFaulted ? Results.Text("the model failed to load\n", statusCode: 503)
            : Results.Text("loading the model\n", statusCode: 503));
        app.MapGet("/metrics", () =>
        {
            Metrics.QueueDepth(queue.Depth);
            return Results.Text(Metrics.ToPrometheusText(), "text/plain; version=0.0.4; charset=utf-8");
        });
        app.MapPost("/v1/score", http => Handle(http, "score", ScoreAsync));
        app.MapPost("/v1/compare", http => Handle(http, "compare", CompareAsync));
    }

    private async Task<JsonObject> ScoreAsync(string body, LoadedModel model)
    {
        List<ScoreItem> items = ServeRequests.Score(body, settings.Limits);
        float[] rewards = await Scored(items.SelectMany(i => i.Responses.Select(r => model.Encode(i.Prompt, r))).ToList())
            .ConfigureAwait(false);
        var results = new JsonArray();
        int offset = 0;
        foreach (ScoreItem item in items)
        {
            float[] mine = rewards[offset..(offset + item.Responses.Count)];
            offset += item.Responses.Count;
            var result = new JsonObject { ["rewards"] = new JsonArray([.. mine.Select(r => JsonValue.Create(r))]) };
            if (mine.Length >= 2)
                result["preferences"] = new JsonArray([.. mine.Select(ri =>
                    (JsonNode)new JsonArray([.. mine.Select(rj => JsonValue.Create(BradleyTerry.PreferenceProbability(ri - (double)rj)))]))]);
            results.Add(result);
        }
        return new JsonObject { ["results"] = results };
    }

    private async Task<JsonObject> CompareAsync(string body, LoadedModel model)
    {
        List<CompareItem> pairs = ServeRequests.Compare(body, settings.Limits);
        float[] rewards = await Scored(pairs.SelectMany(p => new[] { model.Encode(p.Prompt, p.ResponseA), model.Encode(p.Prompt, p.ResponseB) })
            .ToList()).ConfigureAwait(false);
        var results = new JsonArray();
        for (int i = 0; i < pairs.Count; i++)
        {
            float a = rewards[2 * i], b = rewards[2 * i + 1];
            results.Add(new JsonObject
            {
                ["reward_a"] = a,
                ["reward_b"] = b,
                ["probability_a"] = BradleyTerry.PreferenceProbability(a - (double)b),
            });
        }
        return new JsonObject { ["results"] = results };
    }

    private Task<float[]> Scored(List<int[]> sequences) =>
        queue.TryEnqueue(sequences) ?? throw new ServeRequestException(429, "queue_full",
            $"the scoring queue is full ({settings.Limits.MaxQueuedSequences} sequences, --max-queue); retry shortly");

    private async Task Handle(HttpContext http, string endpoint, Func<string, LoadedModel, Task<JsonObject>> answer)
    {
        var clock = Stopwatch.StartNew();
        int status = 200;
        try
        {
            Authorize(http.Request);
            if (stopping) throw new ServeRequestException(503, "stopping", "the server is shutting down");
            if (!loading.IsCompletedSuccessfully)
                throw new ServeRequestException(503, "not_ready", loading.IsFaulted ? "the model failed to load" : "the model is still loading");
            string body;
            using (var reader = new StreamReader(http.Request.Body, Encoding.UTF8))
                body = await reader.ReadToEndAsync(http.RequestAborted).ConfigureAwait(false);
            JsonObject result = await answer(body, loading.Result).ConfigureAwait(false);
            http.Response.ContentType = JsonType;
            await http.Response.WriteAsync(result.ToJsonString(), http.RequestAborted).ConfigureAwait(false);
        }
        catch (ServeRequestException e)
        {
            status = e.Status;
            await Refuse(http, e).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            status = e.StatusCode;
            string message = e.StatusCode == 413
                ? $"the request body is larger than {settings.Limits.MaxBodyBytes} bytes (from --max-chars)"
                : e.Message;
            await Refuse(http, new ServeRequestException(e.StatusCode, e.StatusCode == 413 ? "too_large" : "bad_request", message))
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            status = 499;  // the client went away; nothing to answer
            Metrics.Error("client_closed");
        }
        catch (Exception e)
        {
            status = 500;
            await Refuse(http, new ServeRequestException(500, "internal", $"scoring failed: {e.Message}")).ConfigureAwait(false);
        }
        finally
        {
            Metrics.Request(endpoint, status, clock.Elapsed.TotalSeconds);
        }
    }

    private void Authorize(HttpRequest request)
    {
        if (settings.BearerToken is not { } token) return;
        string header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        bool ok = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token));
        if (!ok) throw new ServeRequestException(401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer ...)");
    }

    private async Task Refuse(HttpContext http, ServeRequestException e)
    {
        Metrics.Error(e.Kind);
        if (http.Response.HasStarted) return;
        http.Response.StatusCode = e.Status;
        http.Response.ContentType = JsonType;
        if (e.Status is 429 or 503) http.Response.Headers.RetryAfter = "1";
        if (e.Status == 401) http.Response.Headers.WWWAuthenticate = "Bearer";
        var error = new JsonObject { ["kind"] = e.Kind, ["message"] = e.Message };
        if (e.Field is not null) error["field"] = e.Field;
        await http.Response.WriteAsync(new JsonObject { ["error"] = error }.ToJsonString()).ConfigureAwait(false);
    }
}
