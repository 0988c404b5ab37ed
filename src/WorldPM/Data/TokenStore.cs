using System.Buffers.Binary;
using System.Collections;
using System.IO.MemoryMappedFiles;
using WorldPM.Evaluation;
using WorldPM.Tokenization;

namespace WorldPM.Data;

/// <summary>
/// A prepared token store (<see cref="TokenStoreFormat"/>, written by <see cref="TokenStoreWriter"/>) read through a
/// memory map: the pairs are a list whose items are built from the mapped bytes when asked for, through a few mapped
/// windows (<see cref="MappedWindowCache"/>), so a store of any size costs a bounded number of resident pages. The header and metadata are checked on open; each pair's record,
/// offsets and token ids are checked when the pair is read, and anything out of range is a
/// <see cref="DataFormatException"/> naming the file and the fault, never a wrong pair. Reading pairs from several
/// threads at once is safe.
/// </summary>
public sealed class TokenStore : IReadOnlyList<TokenizedPair>, IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MappedWindowCache _windows;
    private readonly TokenStoreFormat.Header _header;
    private bool _disposed;

    private TokenStore(string path, MemoryMappedFile file, MappedWindowCache windows, TokenStoreFormat.Header header, TokenStoreMetadata metadata)
    {
        (Path, _file, _windows, _header, Metadata) = (path, file, windows, header, metadata);
    }

    /// <summary>The store's file.</summary>
    public string Path { get; }

    /// <summary>The tokenizer, scoring token, source files and subsets the store records.</summary>
    public TokenStoreMetadata Metadata { get; }

    /// <summary>The most tokens of any sequence (the max length it was prepared with).</summary>
    public int MaxLength => _header.MaxLength;

    /// <summary>The vocabulary size of the tokenizer that made the ids.</summary>
    public int VocabSize => _header.VocabSize;

    /// <summary>Tokens in the store, both sequences of every pair.</summary>
    public long Tokens => _header.Tokens;

    /// <summary>The <see cref="Training.TrainingDataFingerprint"/> of all pairs in order, computed when the store was written.</summary>
    public long DataFingerprint => _header.DataFingerprint;

    public int Count => (int)_header.Pairs;

    /// <summary>Whether the store keeps its responses' style counts (<see cref="Styles"/>): every store but one written
    /// before they were kept (format version 1).</summary>
    public bool HasStyle => _header.HasStyle;

    /// <summary>The style counts of every pair's responses, in the store's order, each read from the map when asked for
    /// and checked (a negative count is a <see cref="DataFormatException"/> naming the pair).</summary>
    /// <exception cref="InvalidOperationException">The store has none (<see cref="HasStyle"/>).</exception>
    public IReadOnlyList<PairStyle> Styles => HasStyle ? new StyleList(this)
        : throw new InvalidOperationException($"token store '{Path}' (format version {_header.Version}) holds no style counts");

    /// <summary>The error for a store that cannot be used: its file, then what is wrong.</summary>
    public static DataFormatException Fault(string path, string problem) => new(new RecordLocation(path), $"token store: {problem}");

    /// <summary>Whether <paramref name="path"/> is a file that starts with the store's magic (it may still be damaged).</summary>
    public static bool IsTokenStore(string path)
    {
        if (!File.Exists(path)) return false;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> head = stackalloc byte[TokenStoreFormat.Magic.Length];
        return file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(TokenStoreFormat.Magic);
    }

    /// <summary>Opens the store at <paramref name="path"/> and checks its header and metadata.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">The file is not a store of this version, or its header does not fit it.</exception>
    public static TokenStore Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"token store '{path}' does not exist", path);
        long length = new FileInfo(path).Length;
        if (length < TokenStoreFormat.HeaderBytes)
            throw Fault(path, $"{length} bytes, shorter than the {TokenStoreFormat.HeaderBytes}-byte header (cut short?)");
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var windows = new MappedWindowCache(file, length);
        try
        {
            var bytes = new byte[TokenStoreFormat.HeaderBytes];
            windows.Read(0, bytes);
            if (!bytes.AsSpan(0, TokenStoreFormat.Magic.Length).SequenceEqual(TokenStoreFormat.Magic))
                throw Fault(path, "not a token store (wrong magic bytes)");
            var header = TokenStoreFormat.Header.ReadFrom(bytes);
            CheckHeader(path, header, length);
            var json = new byte[header.MetadataBytes];
            windows.Read(header.MetadataAt, json);
            var metadata = TokenStoreMetadata.Parse(json) ?? throw Fault(path, "the metadata block is not valid JSON of a store");
            return new TokenStore(path, file, windows, header, metadata);
        }
        catch
        {
            windows.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>The sections must follow one another in order, with the sizes the counts give, up to the file's end.</summary>
    private static void CheckHeader(string path, TokenStoreFormat.Header h, long length)
    {
        if (h.Version < TokenStoreFormat.OldestReadableVersion || h.Version > TokenStoreFormat.Version)
            throw Fault(path, $"format version {h.Version}; this worldpm reads versions {TokenStoreFormat.OldestReadableVersion} to {TokenStoreFormat.Version}");
        if (!h.HasStyle && h.StyleAt != 0) throw Fault(path, $"format version {h.Version} with a style section offset ({h.StyleAt})");
        if (h.FileBytes != length)
            throw Fault(path, $"the header says {h.FileBytes} bytes but the file has {length} (cut short or appended to)");
        if (h.VocabSize < 1 || h.TokenWidth != TokenStoreFormat.TokenWidth(h.VocabSize))
            throw Fault(path, $"token width {h.TokenWidth} does not fit vocabulary size {h.VocabSize}");
        if (h.MaxLength < 1) throw Fault(path, $"max length {h.MaxLength} is not positive");
        if (h.Pairs < 0 || h.Pairs > int.MaxValue || h.Sequences < 0 || h.Sequences > length || h.Tokens < 0 || h.Tokens > length)
            throw Fault(path, $"counts out of range ({h.Pairs} pairs, {h.Sequences} sequences, {h.Tokens} tokens)");
        var sections = new List<(string Name, long At, long Bytes)>
        {
            ("token array", h.TokensAt, h.Tokens * h.TokenWidth),
            ("offsets", h.OffsetsAt, (h.Sequences + 1) * TokenStoreFormat.OffsetBytes),
            ("pair index", h.PairsAt, h.Pairs * TokenStoreFormat.PairRecordBytes),
        };
        if (h.HasStyle) sections.Add(("style counts", h.StyleAt, h.Pairs * TokenStoreFormat.StyleRecordBytes));
        sections.Add(("metadata", h.MetadataAt, h.MetadataBytes));
        long end = TokenStoreFormat.HeaderBytes;
        foreach (var (name, at, bytes) in sections)
        {
            if (at != end || bytes < 0 || bytes > length - at)
                throw Fault(path, $"the {name} section ({bytes} bytes at offset {at}) does not follow the previous " +
                    $"section (which ends at {end}) within the file's {length} bytes");
            end = at + bytes;
        }
        if (end != length) throw Fault(path, $"{length - end} bytes after the metadata section");
        if (h.MetadataBytes > int.MaxValue) throw Fault(path, $"metadata of {h.MetadataBytes} bytes");
    }

    public TokenizedPair this[int index]
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            TokenStoreFormat.PairRecord record = Record(index);
            string? subset = record.Subset == -1 ? null : Metadata.Subsets[record.Subset];
            return new TokenizedPair(Sequence(index, record.Chosen), Sequence(index, record.Rejected), record.Weight, subset)
            {
                Margin = (record.Flags & TokenStoreFormat.HasMarginFlag) != 0 ? record.Margin : null,
                PromptTruncated = (record.Flags & TokenStoreFormat.PromptTruncatedFlag) != 0,
                ResponseTruncated = (record.Flags & TokenStoreFormat.ResponseTruncatedFlag) != 0,
                ChosenResponseTokens = record.ChosenResponseTokens < 0 ? null : record.ChosenResponseTokens,
                RejectedResponseTokens = record.RejectedResponseTokens < 0 ? null : record.RejectedResponseTokens,
            };
        }
    }

    /// <summary>The index into <see cref="TokenStoreMetadata.Sources"/> of the file pair <paramref name="index"/> came from.</summary>
    public int SourceOf(int index) => CheckedRecord(index).Source;

    /// <summary>Whether pair <paramref name="index"/> carries a margin, from its record alone (no token is read).</summary>
    public bool HasMargin(int index) => (CheckedRecord(index).Flags & TokenStoreFormat.HasMarginFlag) != 0;

    /// <summary>How many of the pairs at <paramref name="indices"/> the template cut, from their records' flags alone:
    /// the counts a <see cref="PairEncoder"/> gave when it encoded them.</summary>
    public TruncationStatistics Truncation(IEnumerable<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        long pairs = 0, truncated = 0, prompt = 0, response = 0;
        foreach (int index in indices)
        {
            int flags = CheckedRecord(index).Flags;
            bool promptCut = (flags & TokenStoreFormat.PromptTruncatedFlag) != 0, responseCut = (flags & TokenStoreFormat.ResponseTruncatedFlag) != 0;
            pairs++;
            if (promptCut || responseCut) truncated++;
            if (promptCut) prompt++;
            if (responseCut) response++;
        }
        return new TruncationStatistics(pairs, truncated, prompt, response);
    }

    private TokenStoreFormat.PairRecord CheckedRecord(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Record(index);
    }

    private TokenStoreFormat.PairRecord Record(int index)
    {
        var record = TokenStoreFormat.PairRecord.ReadFrom(Bytes(_header.PairsAt + (long)index * TokenStoreFormat.PairRecordBytes,
            stackalloc byte[TokenStoreFormat.PairRecordBytes]));
        string? fault =
            record.Chosen < 0 || record.Chosen >= _header.Sequences ? $"chosen sequence {record.Chosen} is not one of the {_header.Sequences} sequences"
            : record.Rejected < 0 || record.Rejected >= _header.Sequences ? $"rejected sequence {record.Rejected} is not one of the {_header.Sequences} sequences"
            : record.Source < 0 || record.Source >= Metadata.Sources.Count ? $"source file {record.Source} is not one of the {Metadata.Sources.Count} in the file table"
            : record.Subset < -1 || record.Subset >= Metadata.Subsets.Count ? $"subset {record.Subset} is not one of the {Metadata.Subsets.Count} subsets"
            : !float.IsFinite(record.Weight) || record.Weight < 0 ? $"weight {record.Weight} is not a finite non-negative number"
            : (record.Flags & TokenStoreFormat.HasMarginFlag) != 0 && !float.IsFinite(record.Margin) ? $"margin {record.Margin} is not finite"
            : null;
        return fault is null ? record : throw Fault(Path, $"pair {index}: {fault}");
    }

    private PairStyle Style(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ReadOnlySpan<byte> bytes = Bytes(_header.StyleAt + (long)index * TokenStoreFormat.StyleRecordBytes,
            stackalloc byte[TokenStoreFormat.StyleRecordBytes]);
        StyleCounts? chosen = TokenStoreFormat.StyleCountsRecord.ReadFrom(bytes);
        StyleCounts? rejected = TokenStoreFormat.StyleCountsRecord.ReadFrom(bytes[TokenStoreFormat.StyleCountsRecord.Bytes..]);
        return chosen is not null && rejected is not null ? new PairStyle(chosen, rejected)
            : throw Fault(Path, $"pair {index}: a negative style count");
    }

    /// <summary>The pairs' style counts as a list read from the store when indexed.</summary>
    private sealed class StyleList(TokenStore store) : IReadOnlyList<PairStyle>
    {
        public PairStyle this[int index]
        {
            get
            {
                ArgumentOutOfRangeException.ThrowIfNegative(index);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
                return store.Style(index);
            }
        }

        public int Count => store.Count;

        public IEnumerator<PairStyle> GetEnumerator()
        {
            for (int i = 0; i < Count; i++) yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private int[] Sequence(int pair, long sequence)
    {
        ReadOnlySpan<byte> offsets = Bytes(_header.OffsetsAt + sequence * TokenStoreFormat.OffsetBytes, stackalloc byte[2 * TokenStoreFormat.OffsetBytes]);
        long start = BinaryPrimitives.ReadInt64LittleEndian(offsets), end = BinaryPrimitives.ReadInt64LittleEndian(offsets[8..]);
        if (start < 0 || end > _header.Tokens || end - start < 1 || end - start > _header.MaxLength)
            throw Fault(Path, $"pair {pair}: sequence {sequence} spans tokens [{start}, {end}), not 1 to " +
                $"{_header.MaxLength} of the {_header.Tokens} in the token array");
        int width = _header.TokenWidth;
        ReadOnlySpan<byte> bytes = Bytes(_header.TokensAt + start * width, new byte[(end - start) * width]);
        var ids = new int[end - start];
        for (int i = 0; i < ids.Length; i++)
        {
            int id = width == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) : BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..]);
            if ((uint)id >= (uint)_header.VocabSize)
                throw Fault(Path, $"pair {pair}: token id {id} is outside the vocabulary of {_header.VocabSize}");
            ids[i] = id;
        }
        return ids;
    }

    /// <summary>The file's bytes from <paramref name="at"/>, as many as <paramref name="buffer"/> holds, copied into it.</summary>
    private ReadOnlySpan<byte> Bytes(long at, Span<byte> buffer)
    {
        _windows.Read(at, buffer);
        return buffer;
    }

    public IEnumerator<TokenizedPair> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _windows.Dispose();
        _file.Dispose();
    }
}
