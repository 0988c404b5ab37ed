using WorldPM.Model;

namespace WorldPM.Cli.Serving;

/// <summary>The bounds of <c>serve</c>, from its options: batching, the queue, and what one request may ask.</summary>
internal sealed record ServeLimits
{
    /// <summary>The most token rows one forward batch runs: real tokens when packed, sequences x longest padded
    /// (<see cref="BatchSizing.MaxTokensPerBatch"/>).</summary>
    public int MaxBatchTokens { get; init; } = 8192;

    /// <summary>How a batch lays out its sequences: packed end to end (the default, as <c>score</c>), or padded to the
    /// longest (<c>--no-packing</c>).</summary>
    public SequenceLayout Layout { get; init; } = SequenceLayout.Packed;

    /// <summary>How long the first request of a batch waits for others to join it (under concurrency; see
    /// <see cref="ScoringQueue"/>).</summary>
    public int MaxWaitMs { get; init; } = 5;

    /// <summary>Wait <see cref="MaxWaitMs"/> even for a lone client (<c>--batch-wait always</c>): a fixed batching
    /// window, at the cost of that much latency when requests do not overlap.</summary>
    public bool WaitWhenAlone { get; init; }

    /// <summary>Sequences queued or being scored, beyond which requests get 429.</summary>
    public int MaxQueuedSequences { get; init; } = 1024;

    /// <summary>Items (scored prompts, or compared pairs) one request may hold.</summary>
    public int MaxItems { get; init; } = 64;

    /// <summary>Responses one score item may hold.</summary>
    public int MaxResponsesPerItem { get; init; } = 16;

    /// <summary>Characters of prompt and response text one request may hold.</summary>
    public int MaxCharacters { get; init; } = 1_000_000;

    /// <summary>The largest request body Kestrel accepts: room for the characters as escaped JSON.</summary>
    public long MaxBodyBytes => 8L * MaxCharacters + 65536;

    /// <summary>How the queue cuts what it gathered into forward batches: the same rule as <c>score</c>'s
    /// <c>--max-tokens-per-batch</c>.</summary>
    public BatchSizing Batching => new(1, MaxBatchTokens, Layout);
}
