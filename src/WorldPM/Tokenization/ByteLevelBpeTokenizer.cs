using System.Text;
using Microsoft.ML.Tokenizers;

namespace WorldPM.Tokenization;

/// <summary>
/// Qwen2 / Qwen2.5 byte-level BPE, as the Hugging Face tokenizers run it: added tokens are cut out
/// of the raw text first (<see cref="AddedTokenMatcher"/>), each remaining run is NFC-normalized,
/// split by Qwen2's regex (<see cref="QwenPreTokenizer"/>), mapped to byte-level characters and
/// merged by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>. The tests check the ids against
/// the reference Qwen tokenizer on English, code, numbers, emoji, CJK and combining accents.
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITokenizer
{
    private readonly BpeTokenizer _bpe;
    private readonly AddedTokenMatcher _matcher;
    private readonly Dictionary<string, int> _addedIds;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly HashSet<int> _modelIds;
    private readonly bool _normalizeNfc;

    private ByteLevelBpeTokenizer(BpeModelData data, string name)
    {
        _bpe = BpeTokenizer.Create(new BpeOptions(data.Vocabulary)
        {
            Merges = data.Merges,
            PreTokenizer = QwenPreTokenizer.Create(),
            ByteLevel = true,
        });
        _matcher = new AddedTokenMatcher(data.AddedTokens);
        _addedIds = data.AddedTokens.ToDictionary(t => t.Content, t => t.Id, StringComparer.Ordinal);
        _addedById = data.AddedTokens.ToDictionary(t => t.Id);
        _modelIds = [.. data.Vocabulary.Values];
        _normalizeNfc = data.NormalizeNfc;
        VocabSize = Math.Max(data.Vocabulary.Values.DefaultIfEmpty(-1).Max(), data.AddedTokens.Select(t => t.Id).DefaultIfEmpty(-1).Max()) + 1;
        EndOfTextId = RequiredSpecial(SpecialTokens.EndOfText, name);
        ImStartId = RequiredSpecial(SpecialTokens.ImStart, name);
        ImEndId = RequiredSpecial(SpecialTokens.ImEnd, name);
    }

    /// <summary>Loads a Hugging Face <c>tokenizer.json</c> (Qwen2, Qwen2.5, Qwen3).</summary>
    /// <exception cref="InvalidDataException">The file is not a tokenizer.json or lacks the chat special tokens.</exception>
    /// <exception cref="NotSupportedException">It is not a byte-level BPE with Qwen2's split regex.</exception>
    public static ByteLevelBpeTokenizer FromTokenizerJson(string path)
    {
        return FromFile(path, () =>
        {
            using var stream = File.OpenRead(path);
            return BpeModelData.ReadTokenizerJson(stream, path);
        });
    }

    /// <summary>
    /// Loads <c>vocab.json</c> + <c>merges.txt</c>. These files hold no special tokens: pass them in
    /// <paramref name="addedTokens"/>, or give <paramref name="tokenizerConfigPath"/> to read them from the
    /// <c>added_tokens_decoder</c> of a <c>tokenizer_config.json</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is not JSON, not a vocabulary, merges or config, or lacks the chat special tokens.</exception>
    public static ByteLevelBpeTokenizer FromVocabAndMerges(
        string vocabPath, string mergesPath, IEnumerable<AddedToken>? addedTokens = null, string? tokenizerConfigPath = null)
    {
        return FromFile(vocabPath, () =>
        {
            var added = new List<AddedToken>(addedTokens ?? []);
            if (tokenizerConfigPath is not null)
            {
                using var config = File.OpenRead(tokenizerConfigPath);
                added.AddRange(BpeModelData.ReadAddedTokensFromConfig(config, tokenizerConfigPath));
            }
            using var vocab = File.OpenRead(vocabPath);
            using var merges = File.OpenRead(mergesPath);
            return BpeModelData.ReadVocabAndMerges(vocab, vocabPath, merges, added);
        });
    }

    /// <summary>
    /// The tokenizer built from what <paramref name="read"/> takes from the files named by <paramref name="name"/>.
    /// A file whose content the reader or the BPE builder cannot use (a merge of tokens not in the vocabulary, a
    /// malformed merge line, two added tokens with one id, a JSON value of the wrong kind) is an
    /// <see cref="InvalidDataException"/> naming it, like every other bad tokenizer file.
    /// </summary>
    private static ByteLevelBpeTokenizer FromFile(string name, Func<BpeModelData> read)
    {
        try
        {
            return new ByteLevelBpeTokenizer(read(), name);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException or FormatException
                                       or OverflowException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{name}: not a usable tokenizer file ({e.Message})", e);
        }
    }

    /// <inheritdoc/>
    public int VocabSize { get; }

    /// <inheritdoc/>
    public int EndOfTextId { get; }

    /// <inheritdoc/>
    public int ImStartId { get; }

    /// <inheritdoc/>
    public int ImEndId { get; }

    /// <inheritdoc/>
    public int[] Encode(string text, bool parseSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        foreach (var segment in _matcher.Split(text, parseSpecialTokens))
        {
            if (!segment.IsText)
            {
                ids.Add(segment.TokenId);
                continue;
            }
            string run = text.Substring(segment.Start, segment.Length);
            if (_normalizeNfc)
                run = run.Normalize(NormalizationForm.FormC);
            ids.AddRange(_bpe.EncodeToIds(run));
        }
        return ids.ToArray();
    }

    /// <inheritdoc/>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var text = new StringBuilder();
        var run = new List<int>();
        foreach (int id in ids)
        {
            if (_addedById.TryGetValue(id, out var added))
            {
                Flush(run, text);
                if (!(skipSpecialTokens && added.Special))
                    text.Append(added.Content);
                continue;
            }
            if (!_modelIds.Contains(id))
                throw new ArgumentOutOfRangeException(nameof(ids), id, "Not an id of this tokenizer.");
            run.Add(id);
        }
        Flush(run, text);
        return text.ToString();
    }

    /// <inheritdoc/>
    public int TokenId(string token) =>
        TryGetTokenId(token, out int id) ? id : throw new KeyNotFoundException($"No added token \"{token}\" in this tokenizer.");

    /// <inheritdoc/>
    public bool TryGetTokenId(string token, out int id) => _addedIds.TryGetValue(token, out id);

    private void Flush(List<int> run, StringBuilder text)
    {
        if (run.Count == 0)
            return;
        text.Append(_bpe.Decode(run));
        run.Clear();
    }

    private int RequiredSpecial(string token, string name) =>
        TryGetTokenId(token, out int id)
            ? id
            : throw new InvalidDataException($"{name}: no added token {token}; the Qwen2.5 chat template needs it.");
}
