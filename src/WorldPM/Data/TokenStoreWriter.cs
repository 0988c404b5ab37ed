using System.Buffers.Binary;
using WorldPM.Checkpoints;
using WorldPM.Evaluation;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Data;

/// <summary>
/// Writes a token store (<see cref="TokenStoreFormat"/>) pair by pair with bounded memory: tokens go straight to the
/// store's temp file, sequence offsets, pair records and style counts to three spill files beside it that are appended at the end,
/// so nothing grows with the data but the subset names. The store appears under its name only once complete
/// (<see cref="AtomicFile"/>): an interrupted write leaves whatever was there before, and no half store.
/// </summary>
public sealed class TokenStoreWriter
{
    private const int BufferBytes = 1 << 20;

    private readonly Stream _tokens;
    private readonly FileStream _offsets;
    private readonly FileStream _pairs;
    private readonly FileStream _styles;
    private readonly int _width;
    private readonly int _vocabSize;
    private readonly int _maxLength;
    private readonly Dictionary<string, int> _subsets = new(StringComparer.Ordinal);
    private readonly List<string> _subsetNames = [];
    private readonly byte[] _record = new byte[new[] { TokenStoreFormat.PairRecordBytes, TokenStoreFormat.OffsetBytes, TokenStoreFormat.StyleRecordBytes }.Max()];
    private byte[] _tokenBytes = new byte[4096];
    private ulong _fingerprint = TrainingDataFingerprint.Start;
    private long _withMargin;
    private long _truncated;

    private TokenStoreWriter(Stream tokens, FileStream offsets, FileStream pairs, FileStream styles, int vocabSize, int maxLength)
    {
        (_tokens, _offsets, _pairs, _styles, _vocabSize, _maxLength) = (tokens, offsets, pairs, styles, vocabSize, maxLength);
        _width = TokenStoreFormat.TokenWidth(vocabSize);
        WriteOffset(0);
    }

    /// <summary>Pairs written so far.</summary>
    public long Pairs { get; private set; }

    /// <summary>Tokens written so far, both sequences of every pair.</summary>
    public long Tokens { get; private set; }

    /// <summary>
    /// Writes the store at <paramref name="path"/>: <paramref name="fill"/> adds the pairs (<see cref="Add"/>) and returns
    /// the source file table their source indices point into. The store then replaces <paramref name="path"/> at once;
    /// an exception from <paramref name="fill"/> leaves <paramref name="path"/> as it was.
    /// </summary>
    /// <param name="tokenizerName">The tokenizer as the user named it, for messages.</param>
    /// <param name="marginFrom">The data field the pairs' margins were read from, or null.</param>
    public static void Write(string path, ITokenizer tokenizer, string tokenizerName, ScoringToken scoringToken, int maxLength,
        string? marginFrom, Func<TokenStoreWriter, IReadOnlyList<TokenStoreSource>> fill)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(fill);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        string fingerprint = TokenizerFingerprint.Of(tokenizer);
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        AtomicFile.Write(path, stream =>
        {
            using FileStream offsets = Spill(directory), pairs = Spill(directory), styles = Spill(directory);
            stream.Position = TokenStoreFormat.HeaderBytes;
            var writer = new TokenStoreWriter(new BufferedStream(stream, BufferBytes), offsets, pairs, styles, tokenizer.VocabSize, maxLength);
            IReadOnlyList<TokenStoreSource> sources = fill(writer);
            var metadata = new TokenStoreMetadata(tokenizerName, fingerprint, ScoringTokenName(scoringToken), sources,
                writer._subsetNames, marginFrom, writer._withMargin, writer._truncated);
            writer.Finish(stream, metadata);
        });
    }

    /// <summary>The name a store records for <paramref name="token"/>.</summary>
    public static string ScoringTokenName(ScoringToken token) => token == ScoringToken.ImEnd ? "im_end" : "endoftext";

    /// <summary>Appends <paramref name="pair"/>, read from the source file at index <paramref name="source"/>, whose
    /// responses' text has the counts <paramref name="style"/>.</summary>
    public void Add(TokenizedPair pair, int source, PairStyle style)
    {
        ArgumentNullException.ThrowIfNull(pair);
        ArgumentNullException.ThrowIfNull(style);
        ArgumentOutOfRangeException.ThrowIfNegative(source);
        long chosen = WriteSequence(pair.Chosen), rejected = WriteSequence(pair.Rejected);
        int subset = -1;
        if (pair.Subset is { } name && !_subsets.TryGetValue(name, out subset))
        {
            _subsets[name] = subset = _subsetNames.Count;
            _subsetNames.Add(name);
        }
        if (pair.Margin is not null) _withMargin++;
        if (pair.Truncated) _truncated++;
        int flags = (pair.Margin is null ? 0 : TokenStoreFormat.HasMarginFlag)
            | (pair.PromptTruncated ? TokenStoreFormat.PromptTruncatedFlag : 0)
            | (pair.ResponseTruncated ? TokenStoreFormat.ResponseTruncatedFlag : 0);
        new TokenStoreFormat.PairRecord(chosen, rejected, pair.Weight, pair.Margin ?? 0f, pair.ChosenResponseTokens ?? -1,
            pair.RejectedResponseTokens ?? -1, source, subset, flags).WriteTo(_record);
        _pairs.Write(_record, 0, TokenStoreFormat.PairRecordBytes);
        TokenStoreFormat.StyleCountsRecord.WriteTo(style.Chosen, _record);
        TokenStoreFormat.StyleCountsRecord.WriteTo(style.Rejected, _record.AsSpan(TokenStoreFormat.StyleCountsRecord.Bytes));
        _styles.Write(_record, 0, TokenStoreFormat.StyleRecordBytes);
        _fingerprint = TrainingDataFingerprint.Add(_fingerprint, pair);
        Pairs++;
    }

    private long WriteSequence(int[] ids)
    {
        if (ids.Length == 0 || ids.Length > _maxLength)
            throw new ArgumentException($"a sequence of {ids.Length} tokens does not fit max length {_maxLength}", nameof(ids));
        int bytes = ids.Length * _width;
        if (_tokenBytes.Length < bytes) _tokenBytes = new byte[bytes];
        Span<byte> span = _tokenBytes.AsSpan(0, bytes);
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)_vocabSize)
                throw new ArgumentException($"token id {ids[i]} is outside the tokenizer's vocabulary of {_vocabSize}", nameof(ids));
            if (_width == 2) BinaryPrimitives.WriteUInt16LittleEndian(span[(2 * i)..], (ushort)ids[i]);
            else BinaryPrimitives.WriteInt32LittleEndian(span[(4 * i)..], ids[i]);
        }
        _tokens.Write(span);
        long sequence = _offsets.Position / TokenStoreFormat.OffsetBytes - 1;
        Tokens += ids.Length;
        WriteOffset(Tokens);
        return sequence;
    }

    private void WriteOffset(long offset)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_record, offset);
        _offsets.Write(_record, 0, TokenStoreFormat.OffsetBytes);
    }

    /// <summary>Appends the offsets, the pair index, the style counts and the metadata after the tokens, then fills in the header.</summary>
    private void Finish(Stream store, TokenStoreMetadata metadata)
    {
        _tokens.Flush();
        long tokensAt = TokenStoreFormat.HeaderBytes;
        long offsetsAt = tokensAt + Tokens * _width;
        _offsets.Position = 0;
        _offsets.CopyTo(store, BufferBytes);
        long pairsAt = store.Position;
        _pairs.Position = 0;
        _pairs.CopyTo(store, BufferBytes);
        long styleAt = store.Position;
        _styles.Position = 0;
        _styles.CopyTo(store, BufferBytes);
        long metadataAt = store.Position;
        byte[] json = metadata.ToUtf8();
        store.Write(json);
        long fileBytes = store.Position;
        var header = new TokenStoreFormat.Header(TokenStoreFormat.Version, _width, _maxLength, _vocabSize, Pairs, 2 * Pairs, Tokens,
            tokensAt, offsetsAt, pairsAt, metadataAt, json.Length, unchecked((long)_fingerprint), fileBytes, styleAt);
        var bytes = new byte[TokenStoreFormat.HeaderBytes];
        header.WriteTo(bytes);
        store.Position = 0;
        store.Write(bytes);
        store.Position = fileBytes;
    }

    /// <summary>A hidden scratch file beside the store, deleted when closed (or by the system if the process dies).</summary>
    private static FileStream Spill(string directory) => ScratchFile.Create(directory, "store-spill", BufferBytes);
}
