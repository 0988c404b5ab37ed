// Load test of `worldpm serve` with the W5 reference model (ReferenceModel: 4 layers, d 512, vocab 8192, fp32).
//
//   dotnet run -c Release --project bench/WorldPM.ServeLoad -- [--seconds 15] [--warmup 10] [--concurrency 1,8,64] [--json F]
//
// 1. Saves a randomly initialised reference model as a checkpoint in a temporary folder (byte tokenizer).
// 2. Offline, in this process: scores the same inputs the server will get, 256 tokens each, as batches of 64
//    (W5's shape; sequences/s) and one at a time (the latency of a batch of one: the median of 200, and their p99,
//    the tail the host's own scheduling gives a forward with no server around it).
// 3. Starts `worldpm serve` on a free loopback port (--max-batch-tokens 16384 = 64 x 256) and, at each
//    concurrency, keeps that many requests of one response in flight for --seconds after --warmup seconds,
//    recording each latency. Reports sequences/s, p50 and p99 against the offline figures and the targets:
//    concurrency 64 at >= 80 % of offline throughput, p99 at concurrency 1 within 1.5x a batch of one.
// 4. Where the time went at each level, from the server's /metrics before and after it: the mean queue wait, the
//    mean scoring time of a batch and the share of batches slower than 1.5x the offline batch of one, the server's
//    mean request time (the rest of the client's latency is the loopback and the client), and the garbage
//    collections and pause time of the server and of this client.
// The client shares the machine's cores with the server: on a 2-core host its own work is part of the cost.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WorldPM.Checkpoints;
using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Workloads;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;  // numbers printed with '.' whatever the host's locale
var options = LoadOptions.Parse(args);
string folder = Directory.CreateTempSubdirectory("worldpm-serve-load-").FullName;
try
{
    string checkpoint = Path.Combine(folder, "checkpoint");
    using (WorldPMContext context = WorldPMContext.Create(Backend.Cpu))
    using (var model = new RewardModel(context, ReferenceModel.Config, seed: 1))
        RewardModelCheckpoint.Save(model, checkpoint);

    var inputs = Inputs.Make(count: 256);
    Offline offline = Offline.Measure(checkpoint, inputs);
    Console.WriteLine($"offline: {offline.SequencesPerSecond:F1} sequences/s in batches of 64 x {offline.Tokens} tokens; " +
        $"a batch of one {offline.SingleMs:F2} ms (p99 of 200: {offline.SingleP99Ms:F2} ms)");

    using var server = ServerProcess.Start(checkpoint);
    var rows = new List<JsonObject>();
    foreach (int concurrency in options.Concurrency)
    {
        Result r = await Load.Run(server.Address, inputs, concurrency, options.Seconds, options.WarmupSeconds, offline.SingleMs);
        var row = new JsonObject
        {
            ["concurrency"] = concurrency,
            ["requests"] = r.Latencies.Count,
            ["sequences_per_s"] = r.SequencesPerSecond,
            ["p50_ms"] = r.Percentile(0.50),
            ["p99_ms"] = r.Percentile(0.99),
            ["fraction_of_offline"] = r.SequencesPerSecond / offline.SequencesPerSecond,
            ["p99_over_batch_of_one"] = r.Percentile(0.99) / offline.SingleMs,
            ["errors"] = r.Errors,
            ["breakdown"] = r.Breakdown.ToJson(),
        };
        rows.Add(row);
        Console.WriteLine($"concurrency {concurrency,3}: {r.SequencesPerSecond,7:F1} sequences/s " +
            $"({100 * r.SequencesPerSecond / offline.SequencesPerSecond,5:F1} % of offline), p50 {r.Percentile(0.5),8:F2} ms, " +
            $"p99 {r.Percentile(0.99),8:F2} ms ({r.Percentile(0.99) / offline.SingleMs:F2}x a batch of one), {r.Errors} errors");
        Console.WriteLine($"                 {r.Breakdown}");
    }
    Console.WriteLine(server.Stop() == 0 ? "server stopped cleanly (exit 0)" : "server exited with an error");
    if (options.JsonPath is { } path)
    {
        var report = new JsonObject
        {
            ["host"] = Environment.MachineName,
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["offline_sequences_per_s"] = offline.SequencesPerSecond,
            ["offline_batch_of_one_ms"] = offline.SingleMs,
            ["offline_batch_of_one_p99_ms"] = offline.SingleP99Ms,
            ["seconds_per_level"] = options.Seconds,
            ["levels"] = new JsonArray([.. rows]),
        };
        File.WriteAllText(path, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
finally
{
    Directory.Delete(folder, recursive: true);
}

/// <summary>The command line: --seconds per level, --concurrency levels, --json report path.</summary>
internal sealed record LoadOptions(double Seconds, double WarmupSeconds, int[] Concurrency, string? JsonPath)
{
    public static LoadOptions Parse(string[] args)
    {
        var o = new LoadOptions(15, 10, [1, 8, 64], null);
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--seconds" => o with { Seconds = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--concurrency" => o with { Concurrency = [.. Value().Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))] },
                "--warmup" => o with { WarmupSeconds = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--json" => o with { JsonPath = Value() },
                _ => throw new ArgumentException($"unknown option {args[i]} (expected --seconds, --warmup, --concurrency, --json)"),
            };
        }
        if (o.Seconds <= 0 || o.WarmupSeconds < 0 || o.Concurrency.Length == 0 || o.Concurrency.Any(c => c < 1))
            throw new ArgumentException("--seconds must be positive, --warmup not negative and --concurrency a list of positive counts");
        return o;
    }
}

/// <summary>Request texts long enough that the template cuts every sequence to the model's 256 positions.</summary>
internal static class Inputs
{
    public static List<(string Prompt, string Response)> Make(int count)
    {
        var random = new Random(5);
        string Text(int length) => new([.. Enumerable.Range(0, length).Select(_ => (char)('a' + random.Next(26)))]);
        return [.. Enumerable.Range(0, count).Select(_ => (Text(40), Text(400)))];
    }
}

/// <summary>Offline scoring of the same inputs with the same checkpoint, in this process.</summary>
internal sealed record Offline(double SequencesPerSecond, double SingleMs, double SingleP99Ms, int Tokens)
{
    public static Offline Measure(string checkpoint, List<(string Prompt, string Response)> inputs)
    {
        using WorldPMContext context = WorldPMContext.Create(Backend.Cpu);
        using RewardModel model = RewardModelCheckpoint.Load(context, checkpoint);
        model.BatchInvariant = true;  // the forward `score` and the server run (ModelInputs)
        var template = new ChatTemplate(ByteTokenizer.Instance, model.Config.ScoringToken);
        List<int[]> ids = [.. inputs.Select(i => template.Encode([new ChatTurn(ChatRole.User, i.Prompt)], i.Response, model.Config.MaxPositionEmbeddings).Ids)];
        // Packed, as `score` and the server batch by default: a padded offline batch would pay for padding the
        // server does not, and the server would look faster than offline.
        var batches = ids.Chunk(64).Select(c => SequenceBatch.FromSequences(model.Config, c, SequenceLayout.Packed)).ToList();
        model.Score(batches[0]);  // warm-up: arena, thread pool, BLAS
        var times = new List<double>();
        for (int rep = 0; rep < 3; rep++)
            foreach (SequenceBatch batch in batches)
            {
                var clock = Stopwatch.StartNew();
                model.Score(batch);
                times.Add(clock.Elapsed.TotalSeconds);
            }
        times.Sort();
        double perBatch = times[times.Count / 2];
        SequenceBatch one = SequenceBatch.FromSequences(model.Config, [ids[0]], SequenceLayout.Packed);
        model.Score(one);
        var single = new List<double>();
        for (int rep = 0; rep < 200; rep++)
        {
            var clock = Stopwatch.StartNew();
            model.Score(one);
            single.Add(clock.Elapsed.TotalMilliseconds);
        }
        single.Sort();
        return new Offline(64 / perBatch, single[single.Count / 2], single[(int)Math.Ceiling(0.99 * single.Count) - 1], ids[0].Length);
    }
}

/// <summary>`worldpm serve` as a child process on a free loopback port.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process process;

    private ServerProcess(Process process, Uri address)
    {
        this.process = process;
        Address = address;
    }

    public Uri Address { get; }

    public static ServerProcess Start(string checkpoint)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "worldpm.dll"), "serve", checkpoint, "--port", "0",
                     "--max-batch-tokens", "16384", "--max-queue", "4096" })
            start.ArgumentList.Add(arg);
        Process process = Process.Start(start) ?? throw new InvalidOperationException("cannot start worldpm serve");
        string first = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("worldpm serve printed nothing");
        Match m = Regex.Match(first, @"listening at (http://\S+?)/? ");
        if (!m.Success) throw new InvalidOperationException($"unexpected first line of worldpm serve: {first}");
        var server = new ServerProcess(process, new Uri(m.Groups[1].Value));
        using var client = new HttpClient { BaseAddress = server.Address };
        while (client.GetAsync("/readyz").Result.StatusCode != HttpStatusCode.OK) Thread.Sleep(50);
        return server;
    }

    /// <summary>SIGTERM, then the exit code (0 after a clean stop).</summary>
    public int Stop()
    {
        using (Process kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!) kill.WaitForExit();
        process.WaitForExit(60_000);
        return process.HasExited ? process.ExitCode : -1;
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }
}

/// <summary>One concurrency level: its latencies (ms), throughput, and where the time went.</summary>
internal sealed record Result(List<double> Latencies, double SequencesPerSecond, int Errors, Breakdown Breakdown)
{
    public double Percentile(double q)
    {
        if (Latencies.Count == 0) return double.NaN;
        var sorted = Latencies.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
    }
}

/// <summary>Closed-loop load: <c>concurrency</c> workers, each sending its next request when the last is answered.</summary>
internal static class Load
{
    public static async Task<Result> Run(Uri address, List<(string Prompt, string Response)> inputs, int concurrency, double seconds,
        double warmupSeconds, double singleMs)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        string[] bodies = [.. inputs.Select(i => JsonSerializer.Serialize(new { prompt = i.Prompt, response = i.Response }))];
        // Warm-up, not counted: long enough for the runtime's tiered JIT to finish recompiling the hot methods (a fresh
        // server's first seconds carry that background compiling, which a server in a training loop has long done;
        // with 2 s, p99 at concurrency 1 was 1.55-1.89x a batch of one, with the JIT's tiering off 1.40-1.44x).
        await Phase(client, bodies, concurrency, warmupSeconds, new List<double>());
        var latencies = new List<double>();
        var before = await Snapshot.Take(client);
        var clock = Stopwatch.StartNew();
        int errors = await Phase(client, bodies, concurrency, seconds, latencies);
        double elapsed = clock.Elapsed.TotalSeconds;
        var after = await Snapshot.Take(client);
        return new Result(latencies, latencies.Count / elapsed, errors, Breakdown.Between(before, after, singleMs / 1000));
    }

    private static async Task<int> Phase(HttpClient client, string[] bodies, int concurrency, double seconds, List<double> latencies)
    {
        var until = Stopwatch.StartNew();
        int errors = 0, next = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (until.Elapsed.TotalSeconds < seconds)
            {
                string body = bodies[Interlocked.Increment(ref next) % bodies.Length];
                var clock = Stopwatch.StartNew();
                using HttpResponseMessage response = await client.PostAsync("/v1/score", new StringContent(body, Encoding.UTF8, "application/json"));
                await response.Content.ReadAsStringAsync();
                double ms = clock.Elapsed.TotalMilliseconds;
                lock (latencies)
                {
                    if (response.IsSuccessStatusCode) latencies.Add(ms);
                    else errors++;
                }
            }
        }));
        return errors;
    }
}

/// <summary>The server's /metrics and this process's garbage-collection counters at one moment.</summary>
internal sealed record Snapshot(Dictionary<string, double> Server, int[] ClientCollections, TimeSpan ClientPause)
{
    public static async Task<Snapshot> Take(HttpClient client)
    {
        string text = await client.GetStringAsync("/metrics");
        var series = new Dictionary<string, double>();
        foreach (string line in text.Split('\n'))
        {
            int space = line.LastIndexOf(' ');
            if (line.Length == 0 || line[0] == '#' || space < 0) continue;
            series[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return new Snapshot(series, [.. Enumerable.Range(0, GC.MaxGeneration + 1).Select(GC.CollectionCount)], GC.GetTotalPauseDuration());
    }

    public double Delta(Snapshot before, string series) => Server.GetValueOrDefault(series) - before.Server.GetValueOrDefault(series);
}

/// <summary>Where one level's time went: means per request and per batch from the server's histograms, the share of
/// batches whose scoring took longer than the threshold, and collections and pauses on both sides.</summary>
internal sealed record Breakdown(double RequestMs, double QueueWaitMs, double ScoringMs, double SlowScoringShare, double SlowBoundMs,
    string ServerCollections, double ServerPauseMs, string ClientCollections, double ClientPauseMs)
{
    public static Breakdown Between(Snapshot before, Snapshot after, double slowSeconds)
    {
        double Mean(string histogram) => 1000 * after.Delta(before, histogram + "_sum") / Math.Max(1, after.Delta(before, histogram + "_count"));
        // The smallest bucket bound at or above the threshold: the share of batches slower than it.
        string bucket = after.Server.Keys.Where(k => k.StartsWith("worldpm_scoring_duration_seconds_bucket{le=\"", StringComparison.Ordinal) && !k.Contains("+Inf"))
            .Select(k => (Key: k, Bound: double.Parse(k[(k.IndexOf('"') + 1)..k.LastIndexOf('"')], CultureInfo.InvariantCulture)))
            .Where(b => b.Bound >= slowSeconds).OrderBy(b => b.Bound).Select(b => b.Key).FirstOrDefault() ?? "";
        double batches = after.Delta(before, "worldpm_scoring_duration_seconds_count");
        double slowShare = batches > 0 ? 1 - after.Delta(before, bucket) / batches : 0;
        double slowBound = bucket.Length > 0 ? 1000 * double.Parse(bucket[(bucket.IndexOf('"') + 1)..bucket.LastIndexOf('"')], CultureInfo.InvariantCulture) : double.NaN;
        string serverGcs = string.Join("/", Enumerable.Range(0, 3).Select(g => after.Delta(before, $"worldpm_gc_collections_total{{generation=\"{g}\"}}")));
        string clientGcs = string.Join("/", after.ClientCollections.Zip(before.ClientCollections, (a, b) => a - b));
        return new Breakdown(Mean("worldpm_request_duration_seconds"), Mean("worldpm_queue_wait_seconds"), Mean("worldpm_scoring_duration_seconds"),
            slowShare, slowBound, serverGcs, 1000 * after.Delta(before, "worldpm_gc_pause_seconds_total"), clientGcs,
            (after.ClientPause - before.ClientPause).TotalMilliseconds);
    }

    public JsonObject ToJson() => new()
    {
        ["server_request_mean_ms"] = RequestMs,
        ["queue_wait_mean_ms"] = QueueWaitMs,
        ["scoring_mean_ms"] = ScoringMs,
        ["scoring_slower_share"] = SlowScoringShare,
        ["scoring_slower_than_ms"] = double.IsFinite(SlowBoundMs) ? SlowBoundMs : null,  // null: a server without the histogram
        ["server_gc_gen0_1_2"] = ServerCollections,
        ["server_gc_pause_ms"] = ServerPauseMs,
        ["client_gc_gen0_1_2"] = ClientCollections,
        ["client_gc_pause_ms"] = ClientPauseMs,
    };

    public override string ToString() =>
        $"server: request {RequestMs:F2} ms = queue wait {QueueWaitMs:F2} + scoring {ScoringMs:F2} (per batch; {100 * SlowScoringShare:F1} % over " +
        $"{SlowBoundMs:F1} ms) + the rest; GC server {ServerCollections} ({ServerPauseMs:F1} ms paused), client {ClientCollections} ({ClientPauseMs:F1} ms)";
}
