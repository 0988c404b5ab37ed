namespace WorldPM.Cli.Serving;

/// <summary>The bounds of <c>serve</c>, from its options: batching, the queue, and what one request may ask.</summary>
internal sealed record ServeLimits
{
    /// <summary>The most padded tokens (sequences x longest) one forward batch holds.</summary>
    public int MaxBatchTokens { get; init; } = 8192;

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
}
