using WorldPM.Data;
using WorldPM.Tokenization;

namespace WorldPM.Cli;

/// <summary>
/// A token store given where <c>train</c> or <c>eval</c> take data (<c>worldpm prepare</c> wrote it): found by its header
/// among the data paths, opened by memory map, and checked against the model it feeds: the same tokenizer (by what it
/// does, <see cref="TokenizerFingerprint"/>), max length and scoring token, each mismatch an error naming both sides.
/// </summary>
internal static class TokenStoreInputs
{
    /// <summary>The store <paramref name="paths"/> name, or null when they are raw data; a store goes alone.</summary>
    public static string? StorePath(IReadOnlyList<string> paths, string what)
    {
        string? store = paths.FirstOrDefault(TokenStore.IsTokenStore);
        if (store is not null && paths.Count > 1)
            throw new UsageException($"{what} '{store}' is a token store; give it alone (prepare the other data into it)");
        return store;
    }

    /// <summary>Opens the store at <paramref name="path"/> for a model reading ids of <paramref name="tokenizer"/> up to
    /// <paramref name="maxLength"/> ending in <paramref name="scoring"/>, with margins from <paramref name="marginFrom"/>
    /// when not null; logs one line on <paramref name="log"/>.</summary>
    public static TokenStore Open(string path, ITokenizer tokenizer, string tokenizerName, int maxLength, ScoringToken scoring,
        string? marginFrom, string what, TextWriter? log)
    {
        TokenStore store = TokenStore.Open(path);
        try
        {
            Require(store, tokenizer, tokenizerName, maxLength, scoring, marginFrom);
        }
        catch
        {
            store.Dispose();
            throw;
        }
        TokenStoreMetadata m = store.Metadata;
        log?.WriteLine($"{what} {path}: token store of {store.Count} pairs, {store.Tokens} tokens from {m.Sources.Count} file(s); " +
            $"{m.Sources.Sum(s => s.BadRecords)} bad records when prepared (tokenizer {m.Tokenizer}, max length {store.MaxLength})");
        return store;
    }

    /// <summary>The bad records the store's files had when it was prepared.</summary>
    public static int BadRecords(TokenStore store) => store.Metadata.Sources.Sum(s => s.BadRecords);

    private static void Require(TokenStore store, ITokenizer tokenizer, string tokenizerName, int maxLength, ScoringToken scoring,
        string? marginFrom)
    {
        TokenStoreMetadata m = store.Metadata;
        string fingerprint = TokenizerFingerprint.Of(tokenizer);
        if (m.TokenizerFingerprint != fingerprint)
            throw TokenStore.Fault(store.Path, $"prepared with tokenizer '{m.Tokenizer}' (fingerprint {m.TokenizerFingerprint}), " +
                $"but the model uses tokenizer '{tokenizerName}' (fingerprint {fingerprint}); prepare it again with --tokenizer {tokenizerName}");
        if (store.MaxLength != maxLength)
            throw TokenStore.Fault(store.Path, $"prepared with max length {store.MaxLength}, but this run uses max length {maxLength}; " +
                $"pass --max-length {store.MaxLength} or prepare it again with --max-length {maxLength}");
        string scoringName = TokenStoreWriter.ScoringTokenName(scoring);
        if (m.ScoringToken != scoringName)
            throw TokenStore.Fault(store.Path, $"prepared with scoring token {m.ScoringToken}, but the model's is {scoringName}; " +
                $"prepare it again with --scoring-token {scoringName}");
        if (marginFrom is not null && (m.MarginFrom != marginFrom || m.PairsWithMargin != store.Count))
            throw new UsageException($"--margin-from {marginFrom}: token store '{store.Path}' holds margins from " +
                (m.MarginFrom is null ? "no field" : $"'{m.MarginFrom}' on {m.PairsWithMargin} of {store.Count} pairs") +
                $"; prepare it again with --margin-from {marginFrom}");
    }
}
