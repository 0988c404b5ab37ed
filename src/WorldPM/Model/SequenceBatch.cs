namespace WorldPM.Model;

/// <summary>
/// What the model reads: <see cref="Count"/> token sequences, checked against a <see cref="ModelConfig"/> once, here,
/// where the batch is made, and laid out either right-padded (<see cref="SequenceLayout.Padded"/>: Count rows of
/// <see cref="SeqLen"/> positions, padding ids 0, which never influence a reward) or end to end
/// (<see cref="SequenceLayout.Packed"/>: one stream of the real tokens only). Every id is in 0 .. vocab_size - 1, every
/// length at least 1 and at most max_position_embeddings. Everything the model uploads (ids, lengths or offsets,
/// positions, scoring positions and rows) is computed here, so a batch is laid out once and may be run any number of
/// times.
/// </summary>
public sealed class SequenceBatch
{
    private readonly int[] tokens, lengths, offsets, positions, scoringPositions, scoringRows;

    private SequenceBatch(int[] tokens, int[] lengths, int seqLen, int vocabSize, SequenceLayout layout)
    {
        this.tokens = tokens;
        this.lengths = lengths;
        SeqLen = seqLen;
        VocabSize = vocabSize;
        Layout = layout;
        scoringPositions = [.. lengths.Select(length => length - 1)];
        offsets = new int[lengths.Length + 1];
        for (int b = 0; b < lengths.Length; b++) offsets[b + 1] = checked(offsets[b] + lengths[b]);
        if (layout == SequenceLayout.Packed)
        {
            positions = new int[tokens.Length];
            for (int b = 0; b < lengths.Length; b++)
                for (int t = 0; t < lengths[b]; t++) positions[offsets[b] + t] = t;
            scoringRows = [.. offsets.Skip(1).Select(end => end - 1)];
        }
        else
        {
            positions = [];
            scoringRows = [.. lengths.Select((length, b) => checked(b * seqLen + length - 1))];
        }
    }

    /// <summary>B, the number of sequences.</summary>
    public int Count => lengths.Length;

    /// <summary>T: the positions of every row of a padded batch; in a packed one, the longest sequence.</summary>
    public int SeqLen { get; }

    /// <summary>The vocabulary the ids were checked against: any model with at least this many ids can run it.</summary>
    public int VocabSize { get; }

    /// <summary>Padded or packed.</summary>
    public SequenceLayout Layout { get; }

    /// <summary>The token rows the model runs, N: Count x SeqLen padded, <see cref="TokenCount"/> packed.</summary>
    public int Rows => tokens.Length;

    /// <summary>The ids of the <see cref="Rows"/> token rows: [Count, SeqLen] row-major with padding 0, or packed
    /// the sequences end to end.</summary>
    public ReadOnlySpan<int> Tokens => tokens;

    /// <summary>The valid tokens of each sequence.</summary>
    public ReadOnlySpan<int> Lengths => lengths;

    /// <summary>cu_seqlens [Count + 1]: where each sequence starts in a packed stream (0 first, the token count
    /// last), whatever the layout; a batch with filler appends its <see cref="FillerSequences"/> ends.</summary>
    public ReadOnlySpan<int> Offsets => offsets;

    /// <summary>Packed: each token's position in its own sequence (restarting at 0), the RoPE positions; empty when
    /// padded (a row's positions are 0..SeqLen-1).</summary>
    public ReadOnlySpan<int> Positions => positions;

    /// <summary>Each sequence's scoring position: its last valid token.</summary>
    public ReadOnlySpan<int> ScoringPositions => scoringPositions;

    /// <summary>Each sequence's scoring row among the <see cref="Rows"/>: b SeqLen + length - 1 padded, its packed
    /// end Offsets[b + 1] - 1 packed.</summary>
    public ReadOnlySpan<int> ScoringRows => scoringRows;

    /// <summary>Number of real (non-padding) tokens.</summary>
    public long TokenCount => offsets[Count];

    /// <summary>Packed batches a recording runs (<see cref="WithFiller"/>): the sequences after the <see cref="Count"/>
    /// real ones that only fill the stream; 0 for every other batch.</summary>
    internal int FillerSequences => offsets.Length - 1 - Count;

    /// <summary>
    /// This packed batch in a stream of <paramref name="rows"/> token rows (at least <see cref="Rows"/>): the real
    /// sequences where they were, then <paramref name="fillerSequences"/> sequences of id 0 filling the rest, none
    /// longer than <paramref name="seqLen"/> (the new <see cref="SeqLen"/>, the attention's bound, at least the
    /// longest real one), the last ones empty where the filler needs fewer. The filler sequences have offsets and
    /// positions like any other but no scoring row: attention keeps every sequence to itself, every other op is per
    /// row, so no real sequence's reward changes, and no gradient reaches a filler row (d out is 0 there). Nothing
    /// here is checked against a config again: id 0 and the real sequences were.
    /// </summary>
    internal SequenceBatch WithFiller(int rows, int seqLen, int fillerSequences)
    {
        if (Layout != SequenceLayout.Packed || FillerSequences != 0)
            throw new InvalidOperationException("only a packed batch without filler takes filler");
        long filler = (long)rows - Rows;
        if (filler < 0 || seqLen < SeqLen || seqLen > rows || fillerSequences < 0 || (long)fillerSequences * seqLen < filler)
            throw new ArgumentOutOfRangeException(nameof(rows), $"{fillerSequences} filler sequences of at most {seqLen} " +
                $"tokens cannot fill {Rows} token rows up to {rows} (longest real sequence {SeqLen})");
        int count = Count;
        var paddedTokens = new int[rows];
        tokens.CopyTo(paddedTokens, 0);
        var paddedOffsets = new int[count + 1 + fillerSequences];
        offsets.CopyTo(paddedOffsets, 0);
        var paddedPositions = new int[rows];
        positions.CopyTo(paddedPositions, 0);
        for (int f = 0, at = Rows; f < fillerSequences; f++)
        {
            int length = Math.Min(seqLen, rows - at);
            for (int t = 0; t < length; t++) paddedPositions[at + t] = t;
            at += length;
            paddedOffsets[count + 1 + f] = at;
        }
        return new SequenceBatch(paddedTokens, lengths, paddedOffsets, paddedPositions, scoringPositions, scoringRows,
            seqLen, VocabSize);
    }

    /// <summary>A packed batch from arrays already computed (<see cref="WithFiller"/>).</summary>
    private SequenceBatch(int[] tokens, int[] lengths, int[] offsets, int[] positions, int[] scoringPositions,
        int[] scoringRows, int seqLen, int vocabSize)
    {
        this.tokens = tokens;
        this.lengths = lengths;
        this.offsets = offsets;
        this.positions = positions;
        this.scoringPositions = scoringPositions;
        this.scoringRows = scoringRows;
        SeqLen = seqLen;
        VocabSize = vocabSize;
        Layout = SequenceLayout.Packed;
    }

    /// <summary>The same sequences in <paramref name="layout"/> (this batch when it is laid out so already); the ids
    /// were checked when this batch was made.</summary>
    public SequenceBatch WithLayout(SequenceLayout layout)
    {
        if (layout == Layout) return this;
        if (FillerSequences != 0) throw new InvalidOperationException("a batch with filler is only run as it is");
        if (!Enum.IsDefined(layout)) throw new ArgumentOutOfRangeException(nameof(layout), layout, "not a sequence layout");
        int[] laidOut = new int[layout == SequenceLayout.Packed ? offsets[^1] : checked(Count * SeqLen)];
        for (int b = 0; b < Count; b++)
        {
            ReadOnlySpan<int> row = Layout == SequenceLayout.Packed
                ? tokens.AsSpan(offsets[b], lengths[b]) : tokens.AsSpan(b * SeqLen, lengths[b]);
            row.CopyTo(laidOut.AsSpan(layout == SequenceLayout.Packed ? offsets[b] : b * SeqLen));
        }
        return new SequenceBatch(laidOut, lengths, SeqLen, VocabSize, layout);
    }

    /// <summary>Lays the sequences out right-padded to the longest one, or (<paramref name="layout"/> packed) end to
    /// end.</summary>
    /// <exception cref="ArgumentException">No sequence, an empty one, one longer than max_position_embeddings, or an id
    /// outside the vocabulary (the message names the row and position).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layout"/> is not a layout.</exception>
    public static SequenceBatch FromSequences(ModelConfig config, IReadOnlyList<int[]> sequences,
        SequenceLayout layout = SequenceLayout.Padded) =>
        FromSequences(config, sequences, nameof(sequences), b => $"sequence {b}", b => $"sequences[{b}, ", layout);

    /// <summary><see cref="FromSequences(ModelConfig, IReadOnlyList{int[]})"/> with messages that name a row the caller's
    /// way (<paramref name="row"/>: "sequence 3"; <paramref name="position"/>: the prefix before the position and "]").</summary>
    internal static SequenceBatch FromSequences(ModelConfig config, IReadOnlyList<int[]> sequences, string argument,
        Func<int, string> row, Func<int, string> position, SequenceLayout layout = SequenceLayout.Padded)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sequences);
        if (!Enum.IsDefined(layout)) throw new ArgumentOutOfRangeException(nameof(layout), layout, "not a sequence layout");
        if (sequences.Count == 0) throw new ArgumentException("a batch needs at least one sequence", argument);
        for (int b = 0; b < sequences.Count; b++)
        {
            if (sequences[b] is null) throw new ArgumentNullException(argument, $"{row(b)} is null");
            if (sequences[b].Length == 0)
                throw new ArgumentException($"{row(b)} is empty; every sequence needs at least its scoring token", argument);
        }
        int seqLen = sequences.Max(s => s.Length);
        CheckSeqLen(config, seqLen, argument);
        bool packed = layout == SequenceLayout.Packed;
        var tokens = new int[packed ? sequences.Sum(s => (long)s.Length) : checked((long)sequences.Count * seqLen)];
        var lengths = new int[sequences.Count];
        for (int b = 0, start = 0; b < sequences.Count; start += packed ? sequences[b].Length : seqLen, b++)
        {
            CheckIds(config, sequences[b], b, position, argument);
            sequences[b].CopyTo(tokens, start);
            lengths[b] = sequences[b].Length;
        }
        return new SequenceBatch(tokens, lengths, seqLen, config.VocabSize, layout);
    }

    /// <summary>A batch from ids already laid out [count, seqLen] right-padded (ids at padding positions may be anything;
    /// they become 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="seqLen"/> out of range.</exception>
    /// <exception cref="ArgumentException">Sizes that do not match, a length outside 1..seqLen or an id outside the
    /// vocabulary (the message names the row and position).</exception>
    public static SequenceBatch FromPadded(ModelConfig config, ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths,
        int count, int seqLen)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "at least one sequence is needed");
        if (seqLen < 1) throw new ArgumentOutOfRangeException(nameof(seqLen), seqLen, "seqLen must be positive");
        if (seqLen > config.MaxPositionEmbeddings)
            throw new ArgumentOutOfRangeException(nameof(seqLen), seqLen,
                $"seqLen exceeds max_position_embeddings ({config.MaxPositionEmbeddings})");
        long expected = (long)count * seqLen;
        if (tokens.Length != expected)
            throw new ArgumentException(
                $"tokens holds {tokens.Length} ids; {count} sequences of {seqLen} positions need {expected}", nameof(tokens));
        if (lengths.Length != count)
            throw new ArgumentException($"lengths holds {lengths.Length} values; expected one per sequence ({count})",
                nameof(lengths));
        var laidOut = new int[expected];
        for (int b = 0; b < count; b++)
        {
            int length = lengths[b];
            if (length < 1 || length > seqLen)
                throw new ArgumentException($"lengths[{b}] is {length}; it must be in 1..{seqLen} (seqLen)", nameof(lengths));
            ReadOnlySpan<int> row = tokens.Slice(b * seqLen, length);
            CheckIds(config, row, b, static b => $"tokens[{b}, ", nameof(tokens));
            row.CopyTo(laidOut.AsSpan(b * seqLen));
        }
        return new SequenceBatch(laidOut, lengths.ToArray(), seqLen, config.VocabSize, SequenceLayout.Padded);
    }

    /// <summary>Checks that a model with <paramref name="config"/> can run this batch: its vocabulary holds every id
    /// checked here and its positions cover SeqLen (O(1): the ids were checked when the batch was made).</summary>
    internal void CheckRunnableBy(ModelConfig config)
    {
        if (VocabSize > config.VocabSize)
            throw new ArgumentException($"the batch was checked against a vocabulary of {VocabSize} ids; this model has " +
                $"{config.VocabSize} (vocab_size): build the batch with this model's config", "batch");
        CheckSeqLen(config, SeqLen, "batch");
    }

    private static void CheckSeqLen(ModelConfig config, int seqLen, string argument)
    {
        if (seqLen > config.MaxPositionEmbeddings)
            throw new ArgumentException($"the longest sequence has {seqLen} tokens; max_position_embeddings is " +
                $"{config.MaxPositionEmbeddings}", argument);
    }

    /// <summary>Every id of row <paramref name="b"/> in the vocabulary; the message names it as
    /// <paramref name="position"/>(b) followed by the position and "]" (built only when an id is bad).</summary>
    private static void CheckIds(ModelConfig config, ReadOnlySpan<int> row, int b, Func<int, string> position, string argument)
    {
        for (int t = 0; t < row.Length; t++)
            if ((uint)row[t] >= (uint)config.VocabSize)
                throw new ArgumentException(
                    $"{position(b)}{t}] is {row[t]}; token ids must be in 0..{config.VocabSize - 1} (vocab_size {config.VocabSize})",
                    argument);
    }
}
