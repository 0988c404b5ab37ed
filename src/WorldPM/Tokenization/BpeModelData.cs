using System.Text.Json;

namespace WorldPM.Tokenization;

/// <summary>
/// What a byte-level BPE tokenizer is made of, read from Hugging Face files: the vocabulary
/// (byte-level token text to id), the merges in priority order as <c>"left right"</c>, the added
/// tokens, and whether text is NFC-normalized first.
/// </summary>
internal sealed record BpeModelData(
    Dictionary<string, int> Vocabulary,
    List<string> Merges,
    List<AddedToken> AddedTokens,
    bool NormalizeNfc)
{
    /// <summary>
    /// Reads a <c>tokenizer.json</c>: <c>model.vocab</c>, <c>model.merges</c> (the <c>"a b"</c> string
    /// form and the <c>["a", "b"]</c> array form), <c>added_tokens</c> and <c>normalizer</c>. Only
    /// what WorldPM reproduces exactly is accepted: a BPE model, no normalizer or NFC, and Qwen2's
    /// split regex as pre-tokenizer.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a tokenizer.json.</exception>
    /// <exception cref="NotSupportedException">It describes a tokenizer WorldPM would not reproduce.</exception>
    public static BpeModelData ReadTokenizerJson(Stream stream, string name)
    {
        using var document = ParseJson(stream, name, new JsonDocumentOptions { MaxDepth = 256 });
        var root = document.RootElement;
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{name}: no \"model\" object; not a Hugging Face tokenizer.json.");
        string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "BPE";
        if (type != "BPE")
            throw new NotSupportedException($"{name}: model type \"{type}\"; only byte-level BPE is supported.");

        CheckPreTokenizer(root, name);
        return new BpeModelData(
            ReadVocabulary(Required(model, "vocab", name)),
            ReadMerges(Required(model, "merges", name), name),
            root.TryGetProperty("added_tokens", out var added) ? ReadAddedTokens(added) : [],
            ReadNormalizer(root, name));
    }

    /// <summary>
    /// Reads the older pair of files: <c>vocab.json</c> and <c>merges.txt</c> (a <c>#version</c>
    /// line, then one <c>"left right"</c> merge a line). Qwen2's slow tokenizer NFC-normalizes, so
    /// this form does too. The special tokens are not in these files: pass them as
    /// <paramref name="addedTokens"/> (see <see cref="ReadAddedTokensFromConfig"/>).
    /// </summary>
    public static BpeModelData ReadVocabAndMerges(Stream vocab, string vocabName, Stream merges, IEnumerable<AddedToken> addedTokens)
    {
        using var document = ParseJson(vocab, vocabName);
        var mergeList = new List<string>();
        using var reader = new StreamReader(merges);
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0)
                continue;
            mergeList.Add(line);
        }
        return new BpeModelData(ReadVocabulary(document.RootElement), mergeList, addedTokens.ToList(), NormalizeNfc: true);
    }

    /// <summary>The <c>added_tokens_decoder</c> of a <c>tokenizer_config.json</c>.</summary>
    public static List<AddedToken> ReadAddedTokensFromConfig(Stream tokenizerConfig, string name)
    {
        using var document = ParseJson(tokenizerConfig, name);
        if (!document.RootElement.TryGetProperty("added_tokens_decoder", out var decoder) || decoder.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{name}: no \"added_tokens_decoder\" object.");
        return decoder.EnumerateObject()
            .Select(p => new AddedToken(
                p.Value.GetProperty("content").GetString() ?? "",
                int.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture),
                p.Value.TryGetProperty("special", out var s) && s.GetBoolean()))
            .ToList();
    }

    /// <summary>The JSON document in <paramref name="stream"/>; a file that is not JSON (binary, cut short) is an
    /// <see cref="InvalidDataException"/> naming it, not a bare parser message.</summary>
    private static JsonDocument ParseJson(Stream stream, string name, JsonDocumentOptions options = default)
    {
        try
        {
            return JsonDocument.Parse(stream, options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{name}: not a JSON file ({e.Message})", e);
        }
    }

    private static JsonElement Required(JsonElement parent, string property, string name) =>
        parent.TryGetProperty(property, out var value)
            ? value
            : throw new InvalidDataException($"{name}: \"model.{property}\" is missing.");

    private static Dictionary<string, int> ReadVocabulary(JsonElement vocab)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
            result[entry.Name] = entry.Value.GetInt32();
        return result;
    }

    private static List<string> ReadMerges(JsonElement merges, string name)
    {
        var result = new List<string>(merges.GetArrayLength());
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String)
            {
                result.Add(merge.GetString()!);
                continue;
            }
            string left = merge[0].GetString()!, right = merge[1].GetString()!;
            // BpeTokenizer takes merges as "left right"; byte-level tokens never hold a space (it is 'Ġ').
            if (left.Contains(' ') || right.Contains(' '))
                throw new NotSupportedException($"{name}: merge [\"{left}\", \"{right}\"] holds a space; not a byte-level vocabulary.");
            result.Add(left + " " + right);
        }
        return result;
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement added) =>
        added.EnumerateArray()
            .Select(t => new AddedToken(
                t.GetProperty("content").GetString() ?? "",
                t.GetProperty("id").GetInt32(),
                t.TryGetProperty("special", out var s) && s.GetBoolean()))
            .ToList();

    private static bool ReadNormalizer(JsonElement root, string name)
    {
        if (!root.TryGetProperty("normalizer", out var normalizer) || normalizer.ValueKind == JsonValueKind.Null)
            return false;
        var types = normalizer.GetProperty("type").GetString() == "Sequence"
            ? normalizer.GetProperty("normalizers").EnumerateArray().Select(n => n.GetProperty("type").GetString()).ToList()
            : [normalizer.GetProperty("type").GetString()];
        if (types.Any(t => t != "NFC"))
            throw new NotSupportedException($"{name}: normalizer {string.Join(", ", types)}; only NFC (or none) is supported.");
        return types.Count > 0;
    }

    private static void CheckPreTokenizer(JsonElement root, string name)
    {
        // WorldPM always splits with Qwen2's regex (the one .NET reproduces exactly); refuse files that say otherwise.
        string json = root.TryGetProperty("pre_tokenizer", out var pre) ? pre.GetRawText() : "null";
        var patterns = new List<string>();
        CollectSplitPatterns(pre, patterns);
        if (patterns.Count != 1 || patterns[0] != QwenPreTokenizer.Pattern)
            throw new NotSupportedException($"{name}: pre_tokenizer {json}; only Qwen2's split regex with byte-level BPE is supported.");
    }

    private static void CollectSplitPatterns(JsonElement element, List<string> patterns)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
                CollectSplitPatterns(item, patterns);
            return;
        }
        if (element.ValueKind != JsonValueKind.Object)
            return;
        if (element.TryGetProperty("type", out var type) && type.GetString() == "Split"
            && element.GetProperty("pattern").TryGetProperty("Regex", out var regex))
            patterns.Add(regex.GetString() ?? "");
        foreach (var property in element.EnumerateObject())
            CollectSplitPatterns(property.Value, patterns);
    }
}
