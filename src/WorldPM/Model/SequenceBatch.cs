namespace WorldPM.Model;

/// <summary>
/// What the model reads: <see cref="Count"/> right-padded token sequences of <see cref="SeqLen"/> positions, checked
/// against a <see cref="ModelConfig"/> once, here, where the batch is made. Every id of a valid position is in
/// 0 .. vocab_size - 1, every length in 1 .. SeqLen, SeqLen at most max_position_embeddings; padding ids are 0 (they
/// never influence a reward). The model uploads <see cref="Tokens"/>, <see cref="Lengths"/> and
/// <see cref="ScoringPositions"/> as they are, so a batch is laid out once and may be run any number of times.
/// </summary>
public sealed class SequenceBatch
{
    private readonly int[] tokens, lengths, scoringPositions;

    private SequenceBatch(int[] tokens, int[] lengths, int seqLen, int vocabSize)
    {
        this.tokens = tokens;
        this.lengths = lengths;
        SeqLen = seqLen;
        VocabSize = vocabSize;
        scoringPositions = [.. lengths.Select(length => length - 1)];
    }

    /// <summary>B, the number of sequences.</summary>
    public int Count => lengths.Length;

    /// <summary>T, the positions of every row.</summary>
    public int SeqLen { get; }

    /// <summary>The vocabulary the ids were checked against: any model with at least this many ids can run it.</summary>
    public int VocabSize { get; }

    /// <summary>[Count, SeqLen] row-major ids, padding 0.</summary>
    public ReadOnlySpan<int> Tokens => tokens;

    /// <summary>The valid tokens of each row.</summary>
    public ReadOnlySpan<int> Lengths => lengths;

    /// <summary>Each row's scoring position: its last valid token.</summary>
    public ReadOnlySpan<int> ScoringPositions => scoringPositions;

    /// <summary>Number of real (non-padding) tokens.</summary>
    public long TokenCount => lengths.Sum(l => (long)l);

    /// <summary>Lays the sequences out right-padded to the longest one.</summary>
    /// <exception cref="ArgumentException">No sequence, an empty one, one longer than max_position_embeddings, or an id
    /// outside the vocabulary (the message names the row and position).</exception>
    public static SequenceBatch FromSequences(ModelConfig config, IReadOnlyList<int[]> sequences) =>
        FromSequences(config, sequences, nameof(sequences), b => $"sequence {b}", b => $"sequences[{b}, ");

    /// <summary><see cref="FromSequences(ModelConfig, IReadOnlyList{int[]})"/> with messages that name a row the caller's
    /// way (<paramref name="row"/>: "sequence 3"; <paramref name="position"/>: the prefix before the position and "]").</summary>
    internal static SequenceBatch FromSequences(ModelConfig config, IReadOnlyList<int[]> sequences, string argument,
        Func<int, string> row, Func<int, string> position)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0) throw new ArgumentException("a batch needs at least one sequence", argument);
        for (int b = 0; b < sequences.Count; b++)
        {
            if (sequences[b] is null) throw new ArgumentNullException(argument, $"{row(b)} is null");
            if (sequences[b].Length == 0)
                throw new ArgumentException($"{row(b)} is empty; every sequence needs at least its scoring token", argument);
        }
        int seqLen = sequences.Max(s => s.Length);
        CheckSeqLen(config, seqLen, argument);
        var tokens = new int[checked(sequences.Count * seqLen)];
        var lengths = new int[sequences.Count];
        for (int b = 0; b < sequences.Count; b++)
        {
            CheckIds(config, sequences[b], b, position, argument);
            sequences[b].CopyTo(tokens, b * seqLen);
            lengths[b] = sequences[b].Length;
        }
        return new SequenceBatch(tokens, lengths, seqLen, config.VocabSize);
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
        return new SequenceBatch(laidOut, lengths.ToArray(), seqLen, config.VocabSize);
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
