using System.Diagnostics;
using System.Threading.Channels;
using WorldPM.Evaluation;
using WorldPM.Model;

namespace WorldPM.Cli.Serving;

/// <summary>
/// Dynamic batching for <c>serve</c>: requests enqueue their tokenized sequences; one worker (the model is not
/// thread-safe, and one batch at a time is what keeps the cores busy) takes the first waiting request, gathers more
/// for up to <see cref="ServeLimits.MaxWaitMs"/> while the batch stays within <see cref="ServeLimits.MaxBatchTokens"/>
/// token rows, scores them exactly as <c>score</c> does (packed by default, cut by the same
/// <see cref="BatchSizing"/>) and completes each request with its rewards in order. A sequence's reward does not
/// depend on its batch companions, so every request gets the bits <c>score</c> prints for its responses.
/// <para>
/// The wait is only paid under concurrency: when the last batch held one request and no other is waiting, a lone
/// client gets its answer without it (waiting could only add latency); as soon as requests overlap, the next batch
/// waits for company again.
/// </para>
/// <para>
/// The queue is bounded in sequences (<see cref="ServeLimits.MaxQueuedSequences"/>), counted from enqueue until
/// scored: a request that would overfill it is refused at once (the caller answers 429), so memory and latency stay
/// bounded under any load.
/// </para>
/// </summary>
internal sealed class ScoringQueue
{
    private sealed record Job(IReadOnlyList<int[]> Sequences, TaskCompletionSource<float[]> Done, long Enqueued);

    private readonly Channel<Job> channel = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ServeLimits limits;
    private readonly BatchSizing batching;
    private readonly ServerMetrics metrics;
    private long queued;
    private int waitingJobs;

    public ScoringQueue(ServeLimits limits, ServerMetrics metrics)
    {
        this.limits = limits;
        batching = limits.Batching;
        this.metrics = metrics;
    }

    /// <summary>Sequences waiting or being scored.</summary>
    public long Depth => Interlocked.Read(ref queued);

    /// <summary>Queues <paramref name="sequences"/>; null when the queue has no room for them (nothing was queued).</summary>
    public Task<float[]>? TryEnqueue(IReadOnlyList<int[]> sequences)
    {
        long after = Interlocked.Add(ref queued, sequences.Count);
        if (after > limits.MaxQueuedSequences)
        {
            Interlocked.Add(ref queued, -sequences.Count);
            return null;
        }
        metrics.QueueDepth(after);
        var job = new Job(sequences, new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously),
            Stopwatch.GetTimestamp());
        Interlocked.Increment(ref waitingJobs);
        if (!channel.Writer.TryWrite(job))
        {
            Interlocked.Decrement(ref waitingJobs);
            Interlocked.Add(ref queued, -sequences.Count);
            return null;
        }
        return job.Done.Task;
    }

    /// <summary>No more requests: <see cref="RunAsync"/> finishes what is queued and returns.</summary>
    public void Complete() => channel.Writer.TryComplete();

    /// <summary>The worker: scores batches until <see cref="Complete"/> and the queue is empty.</summary>
    public async Task RunAsync(RewardModel model)
    {
        ChannelReader<Job> reader = channel.Reader;
        var jobs = new List<Job>();
        int lastBatchJobs = 0;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            jobs.Clear();
            try
            {
                await GatherAsync(reader, jobs, concurrent: limits.WaitWhenAlone || lastBatchJobs > 1 || Volatile.Read(ref waitingJobs) > 1)
                    .ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // A fault here must not leave requests waiting for ever: fail the ones gathered; the loop goes on.
                foreach (Job job in jobs) job.Done.TrySetException(e);
                continue;
            }
            lastBatchJobs = jobs.Count;
            Score(model, jobs);
        }
    }

    /// <summary>Takes the first waiting job and, while the batch stays within the token budget, the ones that are
    /// waiting or arrive within the wait (waited for only under <paramref name="concurrent"/> load).</summary>
    private async Task GatherAsync(ChannelReader<Job> reader, List<Job> jobs, bool concurrent)
    {
        var lengths = new List<int>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (reader.TryPeek(out Job? next))
            {
                if (jobs.Count > 0 && !Fits(lengths, next.Sequences)) return;
                reader.TryRead(out _);
                Interlocked.Decrement(ref waitingJobs);
                jobs.Add(next);
                lengths.AddRange(next.Sequences.Select(s => s.Length));
                continue;
            }
            long waitMs = limits.MaxWaitMs - clock.ElapsedMilliseconds;
            if (waitMs <= 0 || !concurrent) return;
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(waitMs));
            try
            {
                if (!await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false)) return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Whether sequences of <paramref name="lengths"/> and <paramref name="more"/> make one batch of the
    /// token budget, by the rule that cuts it (<see cref="BatchSizing.Next"/>).</summary>
    private bool Fits(List<int> lengths, IReadOnlyList<int[]> more)
    {
        int count = lengths.Count + more.Count;
        int Length(int i) => i < lengths.Count ? lengths[i] : more[i - lengths.Count].Length;
        return batching.Next(0, count, i => [Length(i)], ItemName) == count;
    }

    /// <summary>Scores the gathered jobs as <c>score</c> does, in batches of the token budget (several when one job
    /// alone exceeds it), and completes each with its rewards.</summary>
    private void Score(RewardModel model, List<Job> jobs)
    {
        List<int[]> sequences = [.. jobs.SelectMany(j => j.Sequences)];
        float[]? rewards = null;
        Exception? failure = null;
        try
        {
            long started = Stopwatch.GetTimestamp();
            foreach (Job job in jobs) metrics.QueueWait(Stopwatch.GetElapsedTime(job.Enqueued, started).TotalSeconds);
            rewards = ScoreCommand.Score(model, sequences, batching, ItemName, batch => metrics.Batch(batch.Count, batch.Rows));
            FiniteRewards.Require(rewards, ItemName);
            metrics.Scored(sequences.Sum(s => (long)s.Length), Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception e)
        {
            failure = e;
        }
        // Out of the depth before any caller hears back: a client that reads /metrics after its answer must not see
        // its own sequences still queued.
        metrics.QueueDepth(Interlocked.Add(ref queued, -sequences.Count));
        int offset = 0;
        foreach (Job job in jobs)
        {
            if (failure is not null) job.Done.TrySetException(failure);
            else job.Done.TrySetResult(rewards![offset..(offset + job.Sequences.Count)]);
            offset += job.Sequences.Count;
        }
    }

    private static string ItemName(int i) => $"item {i + 1} of this batch";
}
