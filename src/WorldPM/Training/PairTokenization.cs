using WorldPM.Data;
using WorldPM.Tokenization;

namespace WorldPM.Training;

/// <summary>
/// Picks a tokenizer from a short description ("byte", a <c>tokenizer.json</c>, or a directory of tokenizer files):
/// the <see cref="ITokenizer"/> a <see cref="PairEncoder"/> turns <see cref="PreferencePair"/>s into
/// <see cref="TokenizedPair"/>s with.
/// </summary>
public static class PairTokenization
{
    /// <summary>The name of the built-in byte tokenizer in <see cref="LoadTokenizer"/>.</summary>
    public const string ByteTokenizerName = "byte";

    private const string TokenizerJson = "tokenizer.json";
    private const string VocabJson = "vocab.json";
    private const string MergesTxt = "merges.txt";
    private const string TokenizerConfigJson = "tokenizer_config.json";

    /// <summary>The tokenizer files a model or tokenizer directory may hold, for copying them along with a model.</summary>
    public static IReadOnlyList<string> TokenizerFileNames { get; } = [TokenizerJson, VocabJson, MergesTxt, TokenizerConfigJson];

    /// <summary>
    /// The tokenizer <paramref name="spec"/> names: <c>"byte"</c> (<see cref="ByteTokenizer"/>), a
    /// <c>tokenizer.json</c> file, or a directory holding <c>tokenizer.json</c> or <c>vocab.json</c> +
    /// <c>merges.txt</c> (special tokens then from its <c>tokenizer_config.json</c>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="spec"/> is neither "byte" nor an existing file or directory.</exception>
    /// <exception cref="FileNotFoundException">The directory holds no tokenizer files.</exception>
    public static ITokenizer LoadTokenizer(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec == ByteTokenizerName) return ByteTokenizer.Instance;
        if (File.Exists(spec)) return ByteLevelBpeTokenizer.FromTokenizerJson(spec);
        if (!Directory.Exists(spec))
            throw new ArgumentException($"unknown tokenizer '{spec}': expected \"{ByteTokenizerName}\", a tokenizer.json file " +
                "or a directory holding tokenizer.json or vocab.json + merges.txt", nameof(spec));
        string json = Path.Combine(spec, TokenizerJson);
        if (File.Exists(json)) return ByteLevelBpeTokenizer.FromTokenizerJson(json);
        string vocab = Path.Combine(spec, VocabJson), merges = Path.Combine(spec, MergesTxt), config = Path.Combine(spec, TokenizerConfigJson);
        if (File.Exists(vocab) && File.Exists(merges))
            return ByteLevelBpeTokenizer.FromVocabAndMerges(vocab, merges, tokenizerConfigPath: File.Exists(config) ? config : null);
        throw new FileNotFoundException($"tokenizer directory '{spec}' holds neither {TokenizerJson} nor {VocabJson} + {MergesTxt}", json);
    }

    /// <summary>Whether <paramref name="directory"/> holds tokenizer files <see cref="LoadTokenizer"/> can read.</summary>
    public static bool HasTokenizerFiles(string directory) =>
        File.Exists(Path.Combine(directory, TokenizerJson))
        || (File.Exists(Path.Combine(directory, VocabJson)) && File.Exists(Path.Combine(directory, MergesTxt)));
}
