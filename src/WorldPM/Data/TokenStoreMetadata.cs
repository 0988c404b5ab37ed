using System.Text.Json;
using System.Text.Json.Serialization;

namespace WorldPM.Data;

/// <summary>One input file of a token store and what it gave.</summary>
public sealed record TokenStoreSource(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("pairs")] int Pairs,
    [property: JsonPropertyName("bad_records")] int BadRecords,
    [property: JsonPropertyName("skipped_records")] int SkippedRecords,
    [property: JsonPropertyName("tied_comparisons")] int TiedComparisons);

/// <summary>
/// The variable-length part of a token store, stored as JSON after the pair index: which tokenizer made the ids (its
/// spec as given and its <see cref="Tokenization.TokenizerFingerprint"/>), the scoring token of the template, the source
/// file table, the subset names that pair records index, and the data field margins were read from (null: none) with
/// how many pairs carry one, and how many pairs the template cut to the max length.
/// </summary>
public sealed record TokenStoreMetadata(
    [property: JsonPropertyName("tokenizer")] string Tokenizer,
    [property: JsonPropertyName("tokenizer_fingerprint")] string TokenizerFingerprint,
    [property: JsonPropertyName("scoring_token")] string ScoringToken,
    [property: JsonPropertyName("sources")] IReadOnlyList<TokenStoreSource> Sources,
    [property: JsonPropertyName("subsets")] IReadOnlyList<string> Subsets,
    [property: JsonPropertyName("margin_from")] string? MarginFrom,
    [property: JsonPropertyName("pairs_with_margin")] long PairsWithMargin,
    [property: JsonPropertyName("truncated_pairs")] long TruncatedPairs)
{
    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this);

    /// <summary>The metadata in <paramref name="json"/>, or null when it is not the JSON object a store holds.</summary>
    public static TokenStoreMetadata? Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var metadata = JsonSerializer.Deserialize<TokenStoreMetadata>(json);
            return metadata is { Tokenizer: not null, TokenizerFingerprint: not null, ScoringToken: not null, Sources: not null, Subsets: not null }
                && metadata.Sources.All(s => s is { Path: not null, Format: not null }) && metadata.Subsets.All(s => s is not null)
                ? metadata : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
