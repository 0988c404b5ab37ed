using WorldPM.Model;
using WorldPM.Tokenization;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>The batches the model reads: laid out and checked once, when made, and then run as they are.</summary>
public class BatchTests : TinyModelFixture
{
    [Test]
    public void PairsAreLaidOutChosenFirstRightPaddedWithZeros()
    {
        var batch = new PairBatch(Tiny, [new TokenizedPair([1, 2, 3], [4]), new TokenizedPair([5], [6, 7], Weight: 2f)]);
        Assert.That(batch.Pairs, Is.EqualTo(2));
        Assert.That(batch.SeqLen, Is.EqualTo(3));
        Assert.That(batch.Sequences.Tokens.ToArray(), Is.EqualTo(new[] { 1, 2, 3, 5, 0, 0, 4, 0, 0, 6, 7, 0 }));
        Assert.That(batch.Sequences.Lengths.ToArray(), Is.EqualTo(new[] { 3, 1, 1, 2 }));
        Assert.That(batch.Sequences.ScoringPositions.ToArray(), Is.EqualTo(new[] { 2, 0, 0, 1 }));
        Assert.That(batch.Weights.ToArray(), Is.EqualTo(new[] { 1f, 2f }));
        Assert.That(batch.TokenCount, Is.EqualTo(7));
    }

    [Test]
    public void PaddedIdsBecomeZeroAndTheCallersArrayIsNotKept()
    {
        int[] tokens = [1, 2, -100, 4, 99999, -1];
        SequenceBatch batch = SequenceBatch.FromPadded(Tiny, tokens, [2, 1], 2, 3);
        tokens[0] = 9;
        Assert.That(batch.Tokens.ToArray(), Is.EqualTo(new[] { 1, 2, 0, 4, 0, 0 }));
    }

    [Test]
    public void EverythingIsCheckedWhereTheBatchIsMade()
    {
        Assert.That(() => new PairBatch(Tiny, [new TokenizedPair([], [1])]),
            Throws.ArgumentException.With.Message.Contains("pairs[0].Chosen is empty"));
        Assert.That(() => new PairBatch(Tiny, [new TokenizedPair([1, 2], [3]), new TokenizedPair([4], [5, 11])]),
            Throws.ArgumentException.With.Message.Contains("pairs[1].Rejected[1] is 11").And.Message.Contains("vocab_size 11"));
        Assert.That(() => SequenceBatch.FromSequences(Tiny, [[1], [2, -1]]),
            Throws.ArgumentException.With.Message.Contains("sequences[1, 1] is -1"));
        Assert.That(() => SequenceBatch.FromSequences(Tiny, [[1], []]),
            Throws.ArgumentException.With.Message.Contains("sequence 1 is empty"));
        Assert.That(() => new PairBatch(Tiny, [new TokenizedPair(new int[65], [1])]),
            Throws.ArgumentException.With.Message.Contains("65 tokens").And.Message.Contains("max_position_embeddings is 64"));
        Assert.That(() => new PairBatch(Tiny, [new TokenizedPair([1], [2], Weight: float.NaN)]),
            Throws.ArgumentException.With.Message.Contains("weights[0] is NaN"));
        Assert.That(() => new PairBatch(Tiny, []), Throws.ArgumentException.With.Message.Contains("at least one pair"));
    }

    [Test]
    public void ABatchFromPairsTrainsLikeTheSameIdsLaidOutByHand()
    {
        var pairs = new PairBatch(Tiny, [new TokenizedPair([1, 2, 3], [4, 5], Weight: 0.5f), new TokenizedPair([6], [7, 8, 9])]);
        PairStepResult fromPairs = model.ForwardBackward(pairs);
        float[] gradients = model.ParameterGradients.ToFloats();
        model.ZeroGrad();
        PairStepResult byHand = model.ForwardBackward([1, 2, 3, 6, 7, 7, 4, 5, 1, 7, 8, 9], [3, 1, 2, 3], pairs: 2, seqLen: 3,
            weights: new float[] { 0.5f, 1f });
        Assert.That(fromPairs.Loss, Is.EqualTo(byHand.Loss));
        Assert.That(fromPairs.ChosenRewards, Is.EqualTo(byHand.ChosenRewards));
        Assert.That(model.ParameterGradients.ToFloats(), Is.EqualTo(gradients));
        Assert.That(model.Score(pairs.Sequences), Is.EqualTo(byHand.ChosenRewards.Concat(byHand.RejectedRewards)));
    }

    [Test]
    public void ABatchMadeForALargerModelIsRefusedWithoutReadingItsIds()
    {
        ModelConfig larger = Tiny with { VocabSize = 40, MaxPositionEmbeddings = 128 };
        SequenceBatch wideIds = SequenceBatch.FromSequences(larger, [[1, 39]]);
        Assert.That(() => model.Score(wideIds),
            Throws.ArgumentException.With.Message.Contains("vocabulary of 40 ids").And.Message.Contains("vocab_size"));
        SequenceBatch longRows = SequenceBatch.FromSequences(Tiny with { MaxPositionEmbeddings = 128 }, [new int[100]]);
        Assert.That(() => model.Score(longRows), Throws.ArgumentException.With.Message.Contains("max_position_embeddings"));
        Assert.That(model.Score(SequenceBatch.FromSequences(Tiny with { VocabSize = 5 }, [[1, 4]])), Has.Length.EqualTo(1),
            "a batch checked against a smaller vocabulary runs");
    }
}
