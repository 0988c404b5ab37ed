using WorldPM.Training;

namespace WorldPM.Tests.Training;

/// <summary>
/// ZeRO-1's split of the flat parameter buffer: over all ranks, every element of every tensor is owned by exactly one
/// rank's block or by the tail that all ranks own, gaps between tensors by no one, and each rank's pieces tile its
/// owned elements without overlap. Checked element by element against the rule written out directly.
/// </summary>
public class ShardLayoutTests
{
    // Tensors with 64-element alignment gaps, as the parameter store lays them out, and an odd total.
    private static readonly (long Offset, long Count)[] Tensors = [(0, 100), (128, 37), (192, 64), (256, 1), (320, 11)];
    private const long Total = 331;

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(7)]
    public void EveryTensorElementIsOwnedOnceAndGapsNever(int ranks)
    {
        long blockSize = Total / ranks, tailStart = blockSize * ranks;
        var ownersOf = new Dictionary<long, List<int>>();
        var tailHolders = new Dictionary<long, int>();
        for (int rank = 0; rank < ranks; rank++)
        {
            var layout = new ShardLayout(Total, ranks, rank);
            Assert.That(layout.PerRank, Is.EqualTo(blockSize));
            Assert.That(layout.TailCount, Is.EqualTo(Total - tailStart).And.LessThan(ranks));
            var ownedSlots = new HashSet<long>();
            foreach (ShardPiece piece in layout.Pieces(Tensors))
            {
                (long offset, long count) = Tensors[piece.Tensor];
                Assert.That(piece.FlatOffset - piece.TensorOffset, Is.EqualTo(offset), "the piece lies in its tensor");
                Assert.That(piece.TensorOffset + piece.Count, Is.LessThanOrEqualTo(count));
                for (long i = 0; i < piece.Count; i++)
                {
                    long x = piece.FlatOffset + i;
                    bool inTail = x >= tailStart;
                    Assert.That(piece.InTail, Is.EqualTo(inTail), $"element {x}");
                    long expectedSlot = inTail ? blockSize + (x - tailStart) : x - rank * blockSize;
                    Assert.That(piece.OwnedOffset + i, Is.EqualTo(expectedSlot), $"element {x} on rank {rank}");
                    Assert.That(ownedSlots.Add(piece.OwnedOffset + i), Is.True, "no two pieces share a slot");
                    if (inTail) tailHolders[x] = tailHolders.GetValueOrDefault(x) + 1;
                    else (ownersOf.TryGetValue(x, out List<int>? o) ? o : ownersOf[x] = []).Add(rank);
                }
            }
            Assert.That(ownedSlots.Count, Is.LessThanOrEqualTo(layout.OwnedCount));
        }

        foreach ((long offset, long count) in Tensors)
            for (long x = offset; x < offset + count; x++)
            {
                if (x >= tailStart)
                    Assert.That(tailHolders.GetValueOrDefault(x), Is.EqualTo(ranks), $"tail element {x} on every rank");
                else
                    Assert.That(ownersOf.GetValueOrDefault(x), Is.EqualTo(new[] { (int)(x / blockSize) }), $"element {x}");
            }
        long tensorElements = Tensors.Sum(t => t.Count);
        Assert.That(ownersOf.Count + tailHolders.Count, Is.EqualTo(tensorElements), "gaps belong to no piece");
    }

    [Test]
    public void ARankOutsideTheWorldIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardLayout(10, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardLayout(10, 0, 0));
    }
}
