using WorldPM.Training;

namespace WorldPM.Tests.Training;

public class PairBatchTests
{
    [Test]
    public void ChosenRowsComeFirstThenRejectedRightPadded()
    {
        var batch = new PairBatch([new TokenizedPair([1, 2, 3], [4]), new TokenizedPair([5], [6, 7], Weight: 2f)], padToken: 9);
        Assert.That(batch.SeqLen, Is.EqualTo(3));
        Assert.That(batch.Tokens, Is.EqualTo(new[] { 1, 2, 3, 5, 9, 9, 4, 9, 9, 6, 7, 9 }));
        Assert.That(batch.Lengths, Is.EqualTo(new[] { 3, 1, 1, 2 }));
        Assert.That(batch.Weights, Is.EqualTo(new[] { 1f, 2f }));
        Assert.That(batch.TokenCount, Is.EqualTo(7));
    }

    [Test]
    public void EmptySequencesAreRejected() =>
        Assert.Throws<ArgumentException>(() => _ = new PairBatch([new TokenizedPair([], [1])]));
}
