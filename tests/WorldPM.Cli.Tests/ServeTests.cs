using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using WorldPM.Cli.Serving;
using WorldPM.Model;

namespace WorldPM.Cli.Tests;

/// <summary>The contract of <c>worldpm serve</c>, against a real Kestrel on a loopback port and a tiny trained
/// checkpoint: the bits of the rewards <c>score</c> gives whatever the batch, batching, limits, backpressure, readiness,
/// auth, metrics, and a stop that loses nothing.</summary>
public class ServeTests
{
    private const string Prompt = "Which is larger, 3 or 5?";
    private static readonly string[] Responses = ["5", "3", "The larger one is 5."];
    private TrainedRun _run = null!;

    [OneTimeSetUp]
    public void TrainAModel() => _run = new TrainedRun();

    [OneTimeTearDown]
    public void DeleteIt() => _run.Dispose();

    private sealed class Server(RewardServer server, HttpClient client) : IAsyncDisposable
    {
        public RewardServer Inner => server;

        public HttpClient Client => client;

        public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Post(string path, string json)
        {
            HttpResponseMessage response = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
            string text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
        }

        public async Task<string> Metrics() => await client.GetStringAsync("/metrics");

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            await server.DisposeAsync();
        }
    }

    private async Task<Server> Start(ServeLimits? limits = null, string? token = null, Func<Serving.LoadedModel>? load = null)
    {
        CheckpointInputs m = CheckpointInputs.Resolve(_run.Checkpoint, null, null, allowNonFinite: false);
        var settings = new ServeSettings("127.0.0.1", 0, limits ?? new ServeLimits(), token);
        RewardServer server = await RewardServer.StartAsync(settings, load ?? (() => ServeCommand.Load(m, Precision.F32, TestBackend.Kind)));
        await server.ModelLoaded.WaitAsync(TimeSpan.FromMinutes(2)).ContinueWith(_ => { });
        return new Server(server, new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) });
    }

    private float[] RewardsFromScoreCommand(params string[] responses) => ScoreCommandRewards([], responses);

    private float[] ScoreCommandRewards(string[] options, string[] responses) =>
        ScoreCommandTests.Rewards(Worldpm.Succeed(["score", _run.Checkpoint, "--prompt", Prompt, .. options,
            .. responses.SelectMany(r => new[] { "--response", r })]));

    private static float[] Floats(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetSingle())];

    /// <summary>Rewards compared as integers: the same bits, not merely close (JSON and "R" both round-trip a float).</summary>
    private static int[] Bits(IEnumerable<float> rewards) => [.. rewards.Select(BitConverter.SingleToInt32Bits)];

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [TestCase(SequenceLayout.Packed)]
    [TestCase(SequenceLayout.Padded)]
    public async Task ScoreGivesTheRewardsOfTheScoreCommandAndTheirBradleyTerryPreferences(SequenceLayout layout)
    {
        float[] expected = ScoreCommandRewards(layout == SequenceLayout.Padded ? ["--no-packing"] : [], Responses);
        await using Server server = await Start(new ServeLimits { Layout = layout });

        var (status, body, _) = await server.Post("/v1/score", JsonSerializer.Serialize(new { prompt = Prompt, responses = Responses }));

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), body.ToString());
        JsonElement result = body.GetProperty("results").EnumerateArray().Single();
        float[] rewards = Floats(result.GetProperty("rewards"));
        Assert.That(Bits(rewards), Is.EqualTo(Bits(expected)), "the bits score prints");
        double[][] preferences = [.. result.GetProperty("preferences").EnumerateArray().Select(row => row.EnumerateArray().Select(p => p.GetDouble()).ToArray())];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.That(preferences[i][j], Is.EqualTo(Sigmoid((double)rewards[i] - rewards[j])).Within(1e-12), $"P({i} over {j})");
    }

    [Test]
    public async Task ItemsAndSingleResponsesAndCompareAgree()
    {
        float[] expected = RewardsFromScoreCommand("5", "3");
        await using Server server = await Start();

        var (status, body, _) = await server.Post("/v1/score", $$"""
            {"items": [{"prompt": "{{Prompt}}", "response": "5"}, {"prompt": [{"role": "user", "content": "{{Prompt}}"}], "response": "3"}]}
            """);
        var (compareStatus, compared, _) = await server.Post("/v1/compare", $$"""
            {"pairs": [{"prompt": "{{Prompt}}", "response_a": "5", "response_b": "3"}]}
            """);

        Assert.That((status, compareStatus), Is.EqualTo((HttpStatusCode.OK, HttpStatusCode.OK)));
        float[] single = [.. body.GetProperty("results").EnumerateArray().Select(r => Floats(r.GetProperty("rewards")).Single())];
        Assert.That(Bits(single), Is.EqualTo(Bits(expected)), "items scored in one request: the bits score prints");
        Assert.That(body.GetProperty("results")[0].TryGetProperty("preferences", out _), Is.False, "one response: no preferences");
        JsonElement pair = compared.GetProperty("results")[0];
        Assert.That(Bits([pair.GetProperty("reward_a").GetSingle(), pair.GetProperty("reward_b").GetSingle()]), Is.EqualTo(Bits(expected)),
            "compare: the bits score prints");
        Assert.That(pair.GetProperty("probability_a").GetDouble(),
            Is.EqualTo(Sigmoid(pair.GetProperty("reward_a").GetDouble() - pair.GetProperty("reward_b").GetDouble())).Within(1e-6));
    }

    /// <summary>Concurrent requests gathered into shared batches (several requests within a fixed window, in the order
    /// they arrived) get the bits of <c>score</c>, which scores them all in one batch and, with <c>--batch 1</c>, each
    /// alone: whatever the server's companions, the rewards are those of both.</summary>
    [Test]
    public async Task ConcurrentRequestsBatchedTogetherGetTheBitsOfTheScoreCommand()
    {
        string[] responses = [.. Enumerable.Range(0, 12).Select(i => $"answer {i} is {new string('5', i)}")];
        float[] together = RewardsFromScoreCommand(responses), alone = ScoreCommandRewards(["--batch", "1"], responses);
        await using Server server = await Start(new ServeLimits { MaxWaitMs = 1000, WaitWhenAlone = true });

        var answers = await Task.WhenAll(responses.Select(r => server.Post("/v1/score", JsonSerializer.Serialize(new { prompt = Prompt, response = r }))));
        string metrics = await server.Metrics();

        Assert.That(answers.Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.OK));
        float[] served = [.. answers.Select(a => Floats(a.Body.GetProperty("results")[0].GetProperty("rewards")).Single())];
        Assert.That(Bits(served), Is.EqualTo(Bits(together)), "score's one batch of twelve");
        Assert.That(Bits(served), Is.EqualTo(Bits(alone)), "score's batches of one");
        double batches = MetricValue(metrics, "worldpm_batch_sequences_count"), single = MetricValue(metrics, "worldpm_batch_sequences_bucket{le=\"1\"}");
        Assert.That(batches, Is.LessThan(12), "the concurrent requests shared batches");
        Assert.That(batches - single, Is.GreaterThan(0), "a batch held several requests: companions score's batches of one did not have");
    }

    [Test]
    public async Task MalformedOrMistypedBodiesAre400NamingTheField()
    {
        await using Server server = await Start();
        var cases = new (string Body, string Kind, string? Field, string Says)[]
        {
            ("{\"prompt\": ", "malformed_json", null, "not valid JSON"),
            ("[1, 2]", "bad_request", null, "should be a JSON object"),
            ("""{"items": [{"prompt": "p", "response": "a"}, {"prompt": "p", "response": 5}]}""", "bad_request", "items[1].response", "should be a string, not a number"),
            ("""{"items": [{"prompt": 7, "response": "a"}]}""", "bad_request", "items[0].prompt", "should be a string or a list of messages"),
            ("""{"prompt": "p"}""", "bad_request", "response", "missing \"response\""),
            ("""{"prompt": "p", "responses": []}""", "bad_request", "responses", "is empty"),
            ("""{"items": {}}""", "bad_request", "items", "should be a list"),
        };
        foreach (var (body, kind, field, says) in cases)
        {
            var (status, answer, _) = await server.Post("/v1/score", body);
            Assert.That(status, Is.EqualTo(HttpStatusCode.BadRequest), body);
            JsonElement error = answer.GetProperty("error");
            Assert.That(error.GetProperty("kind").GetString(), Is.EqualTo(kind), body);
            Assert.That(error.GetProperty("message").GetString(), Does.Contain(says), body);
            Assert.That(error.TryGetProperty("field", out JsonElement f) ? f.GetString() : null, Is.EqualTo(field), body);
        }
        var (compareStatus, compareAnswer, _) = await server.Post("/v1/compare", """{"prompt": "p", "response_a": "x"}""");
        Assert.That((compareStatus, compareAnswer.GetProperty("error").GetProperty("field").GetString()),
            Is.EqualTo((HttpStatusCode.BadRequest, "response_b")));
        Assert.That(MetricValue(await server.Metrics(), "worldpm_request_errors_total{kind=\"bad_request\"}"), Is.EqualTo(7));
    }

    [Test]
    public async Task RequestsOverALimitAre413NamingIt()
    {
        await using Server server = await Start(new ServeLimits { MaxItems = 2, MaxCharacters = 40 });

        var (items, itemsBody, _) = await server.Post("/v1/score", """{"items": [{"response": "a"}, {"response": "b"}, {"response": "c"}]}""");
        var (chars, charsBody, _) = await server.Post("/v1/score", JsonSerializer.Serialize(new { prompt = new string('x', 30), response = new string('y', 11) }));
        var (bytes, bytesBody, _) = await server.Post("/v1/score", JsonSerializer.Serialize(new { prompt = new string('x', 100_000), response = "y" }));

        Assert.That((items, chars, bytes), Is.EqualTo((HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.RequestEntityTooLarge)));
        Assert.That(itemsBody.GetProperty("error").GetProperty("message").GetString(), Does.Contain("3 items; the limit is 2").And.Contain("--max-items"));
        Assert.That(charsBody.GetProperty("error").GetProperty("message").GetString(), Does.Contain("41 characters").And.Contain("--max-chars"));
        Assert.That(bytesBody.GetProperty("error").GetProperty("kind").GetString(), Is.EqualTo("too_large"));
    }

    [Test]
    public async Task AFullQueueAnswers429WithRetryAfterAndTheQueuedRequestStillCompletes()
    {
        await using Server server = await Start(new ServeLimits { MaxQueuedSequences = 2, MaxWaitMs = 3000, WaitWhenAlone = true });

        var first = server.Post("/v1/score", JsonSerializer.Serialize(new { prompt = Prompt, responses = new[] { "5", "3" } }));
        await WaitFor(() => server.Inner.Metrics.ToPrometheusText().Contains("worldpm_queue_depth 2\n"));
        var (status, body, response) = await server.Post("/v1/score", JsonSerializer.Serialize(new { prompt = Prompt, response = "5" }));

        Assert.That(status, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(body.GetProperty("error").GetProperty("message").GetString(), Does.Contain("--max-queue"));
        Assert.That((await first).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AStopAnswersEveryAcceptedRequestThenRefusesNewOnes()
    {
        Server server = await Start(new ServeLimits { MaxWaitMs = 1500, WaitWhenAlone = true });
        try
        {
            var inFlight = Enumerable.Range(0, 5).Select(i => server.Post("/v1/score", JsonSerializer.Serialize(new { prompt = Prompt, response = $"{i}" }))).ToList();
            await WaitFor(() => server.Inner.Metrics.ToPrometheusText().Contains("worldpm_queue_depth 5\n"));

            await server.Inner.StopAsync();

            var answers = await Task.WhenAll(inFlight);
            Assert.That(answers.Select(a => a.Status), Is.All.EqualTo(HttpStatusCode.OK), "nothing accepted is lost");
            Assert.That(answers.Select(a => a.Body.GetProperty("results")[0].GetProperty("rewards")[0].GetSingle()), Is.All.Matches<float>(float.IsFinite));
            Assert.That(async () => await server.Client.GetAsync("/healthz"), Throws.InstanceOf<HttpRequestException>(), "no longer listening");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Test]
    public async Task BeforeTheModelIsLoadedScoringIs503AndReadyzSaysLoading()
    {
        using var gate = new ManualResetEventSlim();
        CheckpointInputs m = CheckpointInputs.Resolve(_run.Checkpoint, null, null, allowNonFinite: false);
        var settings = new ServeSettings("127.0.0.1", 0, new ServeLimits(), null);
        await using RewardServer server = await RewardServer.StartAsync(settings, () =>
        {
            gate.Wait(TimeSpan.FromMinutes(1));
            return ServeCommand.Load(m, Precision.F32, TestBackend.Kind);
        });
        using var client = new HttpClient { BaseAddress = server.Address };

        HttpResponseMessage ready = await client.GetAsync("/readyz");
        HttpResponseMessage health = await client.GetAsync("/healthz");
        HttpResponseMessage score = await client.PostAsync("/v1/score", new StringContent("""{"response": "5"}"""));
        gate.Set();
        await server.ModelLoaded;

        Assert.That((ready.StatusCode, await ready.Content.ReadAsStringAsync()), Is.EqualTo((HttpStatusCode.ServiceUnavailable, "loading the model\n")));
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(score.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(score.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That((await client.GetAsync("/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        string metrics = await client.GetStringAsync("/metrics");
        Assert.That(MetricValue(metrics, "worldpm_requests_total{endpoint=\"score\",status=\"503\"}"), Is.EqualTo(1));
        Assert.That(MetricValue(metrics, "worldpm_request_errors_total{kind=\"not_ready\"}"), Is.EqualTo(1));
    }

    [Test]
    public async Task ABearerTokenGuardsTheApiButNotTheProbes()
    {
        await using Server server = await Start(token: "s3cret");
        string body = JsonSerializer.Serialize(new { prompt = Prompt, response = "5" });

        var (without, _, response) = await server.Post("/v1/score", body);
        server.Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "wrong");
        var (wrong, _, _) = await server.Post("/v1/score", body);
        server.Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret");
        var (right, _, _) = await server.Post("/v1/score", body);
        server.Client.DefaultRequestHeaders.Authorization = null;

        Assert.That((without, wrong, right), Is.EqualTo((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.OK)));
        Assert.That(response.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));
        Assert.That((await server.Client.GetAsync("/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task MetricsAreInThePrometheusTextFormat()
    {
        await using Server server = await Start();
        await server.Post("/v1/score", JsonSerializer.Serialize(new { prompt = Prompt, responses = new[] { "5", "3" } }));

        HttpResponseMessage response = await server.Client.GetAsync("/metrics");
        string text = await response.Content.ReadAsStringAsync();

        Assert.That(response.Content.Headers.ContentType?.ToString(), Does.StartWith("text/plain; version=0.0.4"));
        Assert.That(MetricValue(text, "worldpm_requests_total{endpoint=\"score\",status=\"200\"}"), Is.EqualTo(1));
        Assert.That(MetricValue(text, "worldpm_batch_sequences_sum"), Is.EqualTo(2));
        Assert.That(MetricValue(text, "worldpm_request_duration_seconds_count"), Is.EqualTo(1));
        Assert.That(MetricValue(text, "worldpm_tokens_scored_total"), Is.GreaterThan(0));
        Assert.That(MetricValue(text, "worldpm_queue_depth"), Is.EqualTo(0));
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.That(line, Does.Match(@"^(# (HELP|TYPE) worldpm_\w+ .+|worldpm_\w+(\{[^}]*\})? [0-9.eE+-]+)$"), "a valid exposition line");
    }

    [TestCase("--port", "70000", "--port")]
    [TestCase("--token-file", "no-such-file", "--token-file")]
    [TestCase("--max-batch-tokens", "0", "--max-batch-tokens")]
    [TestCase("--max-batch-tokens", "4", "--max-batch-tokens 4 is less than --max-length")]
    public void BadOptionsExit2NamingTheOption(string option, string value, string named)
    {
        CliResult result = Worldpm.Run("serve", _run.Checkpoint, option, value);

        Assert.That(result.ExitCode, Is.EqualTo(Cli.Usage), result.ToString);
        Assert.That(result.Error, Does.Contain(named));
        Assert.That(result.Error.Trim().Split('\n'), Has.Length.EqualTo(1));
    }

    [Test]
    public void ACheckpointThatFailsToLoadEndsTheServerWithExit1AndOneLine()
    {
        string broken = _run.Files.PathOf("broken-checkpoint");
        Directory.CreateDirectory(broken);
        foreach (string file in Directory.GetFiles(_run.Checkpoint)) File.Copy(file, Path.Combine(broken, Path.GetFileName(file)), overwrite: true);
        string weights = Path.Combine(broken, "model.safetensors");
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..100]);

        CliResult result = Worldpm.Run("serve", broken, "--port", "0");

        Assert.That(result.ExitCode, Is.EqualTo(Cli.Failure), result.ToString);
        Assert.That(result.Error, Does.Contain("model.safetensors"));
        Assert.That(result.Error.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(result.Output, Does.Contain("listening at"));
    }

    private static double MetricValue(string text, string series)
    {
        string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        Assert.That(line, Is.Not.Null, $"{series} in\n{text}");
        return double.Parse(line![(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "the condition never held");
            await Task.Delay(10);
        }
    }
}
