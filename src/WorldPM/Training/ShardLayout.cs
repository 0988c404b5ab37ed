namespace WorldPM.Training;

/// <summary>
/// How ZeRO-1 splits a flat buffer of <see cref="Total"/> elements over <see cref="Ranks"/> ranks: rank r owns
/// [r·<see cref="PerRank"/>, (r+1)·<see cref="PerRank"/>), blocks of equal size as reduce-scatter and all-gather need
/// them, and the <see cref="TailCount"/> &lt; Ranks elements left over at the end are owned by every rank (they are
/// all-reduced and updated identically everywhere, which costs less than padding every buffer to a multiple of
/// the rank count).
/// </summary>
public sealed record ShardLayout
{
    public ShardLayout(long total, int ranks, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, ranks);
        (Total, Ranks, Rank) = (total, ranks, rank);
    }

    public long Total { get; }

    public int Ranks { get; }

    public int Rank { get; }

    /// <summary>Elements of each rank's block.</summary>
    public long PerRank => Total / Ranks;

    /// <summary>Where this rank's block starts.</summary>
    public long Start => Rank * PerRank;

    /// <summary>Where the blocks end and the tail that every rank owns begins.</summary>
    public long TailStart => Ranks * PerRank;

    public long TailCount => Total - TailStart;

    /// <summary>Elements this rank keeps optimizer state for: its block and the tail.</summary>
    public long OwnedCount => PerRank + TailCount;

    /// <summary>
    /// The parts of the tensors (given as flat offset and count) that this rank owns, in order: for each, which tensor,
    /// where the part starts in the flat buffer and in the tensor, its length, and where it sits in this rank's owned
    /// elements (its block first, then the tail). Gaps between tensors belong to no part.
    /// </summary>
    public IReadOnlyList<ShardPiece> Pieces(IReadOnlyList<(long Offset, long Count)> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var pieces = new List<ShardPiece>();
        for (int i = 0; i < tensors.Count; i++)
        {
            (long offset, long count) = tensors[i];
            Add(i, offset, count, Start, Start + PerRank, ownedBase: 0);
            Add(i, offset, count, TailStart, Total, ownedBase: PerRank);
        }
        return pieces;

        void Add(int tensor, long offset, long count, long from, long to, long ownedBase)
        {
            long start = Math.Max(offset, from), end = Math.Min(offset + count, to);
            if (end > start)
                pieces.Add(new ShardPiece(tensor, start, start - offset, end - start, ownedBase + start - from, start >= TailStart));
        }
    }
}

/// <summary>A part of one tensor that a rank owns under a <see cref="ShardLayout"/>.</summary>
/// <param name="Tensor">Index of the tensor in the list given to <see cref="ShardLayout.Pieces"/>.</param>
/// <param name="FlatOffset">Where the part starts in the flat buffer.</param>
/// <param name="TensorOffset">Where the part starts in its tensor.</param>
/// <param name="Count">Elements.</param>
/// <param name="OwnedOffset">Where the part starts in the rank's owned elements (block, then tail).</param>
/// <param name="InTail">Whether the part lies in the tail every rank owns.</param>
public readonly record struct ShardPiece(int Tensor, long FlatOffset, long TensorOffset, long Count, long OwnedOffset, bool InTail);
