namespace WorldPM.Model;

/// <summary>
/// The packed shapes a device graph is recorded for. A recording bakes in a packed batch's token count and the
/// longest-sequence bound of its attention grid, and on real preference data both change with every batch, so a
/// recording keyed on them exactly would almost never replay. Recorded packed batches are therefore rounded up: the
/// token count to the next value of the ladder <see cref="Round"/>, the stream filled up to it with filler tokens
/// (<see cref="SequenceBatch.WithFiller"/>), and the bound likewise. Only recorded batches pay the filler; eager ones
/// (graphs off, the cpu backend) run their real tokens only.
/// <para>
/// The ladder: every n up to 16, then m 2^k with 8 &lt;= m &lt; 16, eight steps per doubling, so a rounded count
/// wastes less than 1/8 of the real tokens whatever the data. Measured on batches of 16, 32 and 64 sequences drawn
/// from the hh-rlhf length histogram the bench keeps (<c>HhRlhfLengths</c>, W4v and W5v; 2000 batches each): the
/// filler is 3.8 to 3.9 % of the real tokens, the batches fall on 8, 5 and 4 (token count, bound) pairs, and four
/// recordings kept least-recently-used replay 93.4, 99.3 and 99.8 % of them. Multiples of 64 would waste 0.2 to
/// 0.9 % but spread the batches over 26 to 47 pairs (15 to 32 % replayed); four steps per doubling wastes 7.6 to
/// 7.8 % to replay 99.8 %. The cost of a rung is the filler's share of the GEMMs and norms, small next to a graph
/// that never replays.
/// </para>
/// </summary>
internal static class LengthBuckets
{
    /// <summary>Significant bits of a bucket: values m 2^k with m below 2^Bits.</summary>
    private const int Bits = 4;

    /// <summary>The smallest value of the ladder at or above <paramref name="n"/> (n itself up to 16).</summary>
    public static int Round(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        int shift = Math.Max(0, 32 - int.LeadingZeroCount(n) - Bits);
        long rounded = (((long)n + (1L << shift) - 1) >> shift) << shift;
        return checked((int)rounded);
    }

    /// <summary>The most filler a batch rounded up to <paramref name="rows"/> can need: rows minus the smallest count
    /// that rounds to it.</summary>
    public static int MostFiller(int rows)
    {
        if (Round(rows) != rows) throw new ArgumentOutOfRangeException(nameof(rows), rows, "not a value of the ladder");
        if (rows <= 1 << Bits) return 0;
        int shift = 32 - int.LeadingZeroCount(rows) - Bits, m = rows >> shift;
        // The ladder value below: (m - 1) 2^shift, or at m = 8 the top of the doubling below, 15 2^(shift - 1).
        int below = m > 1 << (Bits - 1) ? (m - 1) << shift : ((1 << Bits) - 1) << (shift - 1);
        return rows - below - 1;
    }

    /// <summary><paramref name="sequences"/> as a recording runs it. Packed: the token count rounded up, the
    /// longest-sequence bound rounded up (never past the stream nor max_position_embeddings), and as many filler
    /// sequences as the most filler of that count needs at that bound, so that every batch of the rounded shape has
    /// the same number of them. A padded batch is returned as it is (its shape is its count and length).</summary>
    public static SequenceBatch Pad(ModelConfig config, SequenceBatch sequences)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Layout != SequenceLayout.Packed) return sequences;
        int rows = Round(sequences.Rows);
        int bound = Math.Min(Math.Min(Round(sequences.SeqLen), rows), Math.Max(sequences.SeqLen, config.MaxPositionEmbeddings));
        int filler = (MostFiller(rows) + bound - 1) / bound;
        return sequences.WithFiller(rows, bound, filler);
    }
}
