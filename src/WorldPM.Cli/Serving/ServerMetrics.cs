using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace WorldPM.Cli.Serving;

/// <summary>
/// What <c>GET /metrics</c> reports, in the Prometheus text format (version 0.0.4): requests by endpoint and status,
/// errors by kind, the queue depth, batch sizes in sequences and token rows, tokens scored and the throughput of the
/// last batch, and request latency with the two parts the queue accounts for (the wait for a batch, and its
/// scoring; the rest is HTTP, parsing and tokenizing), and the process's garbage collections and their pauses (a pause
/// stops every request). Thread-safe; every name starts with <c>worldpm_</c>.
/// </summary>
internal sealed class ServerMetrics
{
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private static readonly double[] SequenceBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
    private static readonly double[] TokenBuckets = [64, 256, 1024, 4096, 16384, 65536];

    private readonly ConcurrentDictionary<(string Endpoint, int Status), long> requests = new();
    private readonly ConcurrentDictionary<string, long> errors = new();
    private readonly Histogram latency = new(LatencyBuckets), queueWait = new(LatencyBuckets), scoring = new(LatencyBuckets),
        batchSequences = new(SequenceBuckets), batchTokens = new(TokenBuckets);
    private long queueDepth, tokensScored;
    private double lastTokensPerSecond;

    public void Request(string endpoint, int status, double seconds)
    {
        requests.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);
        latency.Observe(seconds);
    }

    public void Error(string kind) => errors.AddOrUpdate(kind, 1, (_, n) => n + 1);

    public void QueueDepth(long depth) => Interlocked.Exchange(ref queueDepth, depth);

    /// <summary>One forward batch: its sequences and the token rows it ran (<see cref="Model.SequenceBatch.Rows"/>).</summary>
    public void Batch(int sequences, long rows)
    {
        batchSequences.Observe(sequences);
        batchTokens.Observe(rows);
    }

    /// <summary>How long a request's sequences waited in the queue for their batch to start.</summary>
    public void QueueWait(double seconds) => queueWait.Observe(seconds);

    /// <summary>A gathered batch scored: its real tokens and the seconds its forward passes took.</summary>
    public void Scored(long tokens, double seconds)
    {
        scoring.Observe(seconds);
        Interlocked.Add(ref tokensScored, tokens);
        if (seconds > 0) Interlocked.Exchange(ref lastTokensPerSecond, tokens / seconds);
    }

    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        Header(text, "worldpm_requests_total", "counter", "Requests answered, by endpoint and HTTP status.");
        foreach (var ((endpoint, status), count) in requests.OrderBy(r => r.Key))
            Line(text, $"worldpm_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}}", count);
        Header(text, "worldpm_request_errors_total", "counter", "Requests refused or failed, by kind.");
        foreach (var (kind, count) in errors.OrderBy(e => e.Key, StringComparer.Ordinal))
            Line(text, $"worldpm_request_errors_total{{kind=\"{kind}\"}}", count);
        Header(text, "worldpm_queue_depth", "gauge", "Sequences queued or being scored.");
        Line(text, "worldpm_queue_depth", Interlocked.Read(ref queueDepth));
        Header(text, "worldpm_tokens_scored_total", "counter", "Real (unpadded) tokens scored.");
        Line(text, "worldpm_tokens_scored_total", Interlocked.Read(ref tokensScored));
        Header(text, "worldpm_last_batch_tokens_per_second", "gauge", "Real tokens per second of the last forward batch.");
        Line(text, "worldpm_last_batch_tokens_per_second", Interlocked.CompareExchange(ref lastTokensPerSecond, 0, 0));
        batchSequences.Write(text, "worldpm_batch_sequences", "Sequences per forward batch.");
        batchTokens.Write(text, "worldpm_batch_tokens", "Token rows per forward batch: real tokens packed, sequences x longest with --no-packing.");
        latency.Write(text, "worldpm_request_duration_seconds", "Time from a request's arrival to its answer.");
        queueWait.Write(text, "worldpm_queue_wait_seconds", "Time a request's sequences waited in the queue for their batch to start.");
        scoring.Write(text, "worldpm_scoring_duration_seconds", "Time the forward passes of one gathered batch took.");
        Header(text, "worldpm_gc_collections_total", "counter", "Garbage collections of this process, by generation.");
        for (int generation = 0; generation <= GC.MaxGeneration; generation++)
            Line(text, $"worldpm_gc_collections_total{{generation=\"{generation}\"}}", GC.CollectionCount(generation));
        Header(text, "worldpm_gc_pause_seconds_total", "counter", "Time this process was paused for garbage collection.");
        Line(text, "worldpm_gc_pause_seconds_total", GC.GetTotalPauseDuration().TotalSeconds);
        return text.ToString();
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder text, string series, double value) =>
        text.Append(series).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');

    /// <summary>A cumulative histogram with fixed upper bounds.</summary>
    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] counts = new long[bounds.Length + 1];
        private long total;
        private double sum;
        private readonly object gate = new();

        public void Observe(double value)
        {
            lock (gate)
            {
                int bucket = Array.FindIndex(bounds, b => value <= b);
                counts[bucket < 0 ? bounds.Length : bucket]++;
                total++;
                sum += value;
            }
        }

        public void Write(StringBuilder text, string name, string help)
        {
            Header(text, name, "histogram", help);
            lock (gate)
            {
                long cumulative = 0;
                for (int i = 0; i < bounds.Length; i++)
                {
                    cumulative += counts[i];
                    Line(text, $"{name}_bucket{{le=\"{bounds[i].ToString("R", CultureInfo.InvariantCulture)}\"}}", cumulative);
                }
                Line(text, $"{name}_bucket{{le=\"+Inf\"}}", total);
                Line(text, $"{name}_sum", sum);
                Line(text, $"{name}_count", total);
            }
        }
    }
}
