using WorldPM.Data;

namespace WorldPM.Tokenization;

/// <summary>
/// Turns <see cref="PreferencePair"/>s into <see cref="TokenizedPair"/>s with the
/// <see cref="ChatTemplate"/>: both sequences at most <see cref="MaxLength"/> tokens and ending in the scoring
/// token, and counts how many pairs had to be cut. Safe to call from several threads.
/// </summary>
public sealed class PairEncoder
{
    private long _pairs;
    private long _truncated;
    private long _promptTruncated;
    private long _responseTruncated;

    /// <summary>An encoder that renders with <paramref name="template"/> and cuts to <paramref name="maxLength"/>.</summary>
    public PairEncoder(ChatTemplate template, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        Template = template;
        MaxLength = maxLength;
    }

    /// <summary>The template pairs are rendered with.</summary>
    public ChatTemplate Template { get; }

    /// <summary>The most tokens a sequence may have.</summary>
    public int MaxLength { get; }

    /// <summary>The counts so far.</summary>
    public TruncationStatistics Statistics => new(
        Interlocked.Read(ref _pairs), Interlocked.Read(ref _truncated),
        Interlocked.Read(ref _promptTruncated), Interlocked.Read(ref _responseTruncated));

    /// <summary>Encodes one pair (with its weight, subset and margin) and counts it.</summary>
    public TokenizedPair Encode(PreferencePair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        TokenizedPair encoded = Template.EncodePair(pair.Prompt, pair.Chosen, pair.Rejected, MaxLength)
            with { Weight = (float)pair.Weight, Subset = pair.Subset, Margin = (float?)pair.Margin };
        Interlocked.Increment(ref _pairs);
        if (encoded.Truncated)
            Interlocked.Increment(ref _truncated);
        if (encoded.PromptTruncated)
            Interlocked.Increment(ref _promptTruncated);
        if (encoded.ResponseTruncated)
            Interlocked.Increment(ref _responseTruncated);
        return encoded;
    }

    /// <summary>Every pair of <paramref name="pairs"/>, in order, encoded and counted.</summary>
    public List<TokenizedPair> EncodeAll(IEnumerable<PreferencePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return pairs.Select(Encode).ToList();
    }
}
