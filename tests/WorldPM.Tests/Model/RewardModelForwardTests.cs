using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>Rewards and loss against the float64 reference, and what right padding must not change.</summary>
public class RewardModelForwardTests : TinyModelFixture
{
    protected override int? RandomizeSeed => 2;

    [Test]
    public void RewardsAndLossMatchTheFloat64Reference()
    {
        int[] lengths = [7, 1, 4, 7, 2, 5];
        int[] tokens = Tokens(new Random(3), Tiny, lengths, seqLen: 7);
        var reference = new ReferenceRewardModel(Tiny, Values(model));

        PairStepResult result = model.ForwardBackward(tokens, lengths, pairs: 3, seqLen: 7);

        double[] expected = [.. Enumerable.Range(0, 6).Select(b => reference.Reward(tokens.AsSpan(b * 7, lengths[b])))];
        double[] actual = [.. result.ChosenRewards.Concat(result.RejectedRewards).Select(r => (double)r)];
        Assert.That(RelativeError(actual, expected), Is.LessThan(1e-4));
        Assert.That(result.Loss, Is.EqualTo(reference.Loss(tokens, lengths, 3, 7)).Within(1e-4).Percent);
    }

    [Test]
    public void ScoreGivesTheRewardsOfForwardBackward()
    {
        int[] lengths = [3, 5];
        int[] tokens = Tokens(new Random(4), Tiny, lengths, seqLen: 5);

        PairStepResult result = model.ForwardBackward(tokens, lengths, pairs: 1, seqLen: 5);

        Assert.That(model.Score(tokens, lengths, count: 2, seqLen: 5),
            Is.EqualTo(new[] { result.ChosenRewards[0], result.RejectedRewards[0] }));
    }

    [Test]
    public void TokensBeyondALengthDoNotChangeTheRewardOrTheGradient()
    {
        int[] lengths = [2, 6, 4, 1];
        int[] tokens = Tokens(new Random(5), Tiny, lengths, seqLen: 6);
        int[] repadded = Tokens(new Random(6), Tiny, lengths, seqLen: 6);
        for (int b = 0; b < lengths.Length; b++)
            for (int t = 0; t < lengths[b]; t++) repadded[b * 6 + t] = tokens[b * 6 + t];

        PairStepResult first = model.ForwardBackward(tokens, lengths, pairs: 2, seqLen: 6);
        Dictionary<string, float[]> firstGrads = Grads(model);
        model.ZeroGrad();
        PairStepResult second = model.ForwardBackward(repadded, lengths, pairs: 2, seqLen: 6);

        Assert.That(second.ChosenRewards, Is.EqualTo(first.ChosenRewards).Within(1e-6f));
        Assert.That(second.RejectedRewards, Is.EqualTo(first.RejectedRewards).Within(1e-6f));
        foreach (Parameter p in model.Parameters)
            Assert.That(p.Grad.ToFloats(), Is.EqualTo(firstGrads[p.Name]).Within(1e-6f), p.Name);
    }

    [Test]
    public void RightPaddedSequencesArePositionedFromZero()
    {
        int[] sequence = [4, 9, 1];
        float alone = model.Score(sequence, [3], count: 1, seqLen: 3)[0];

        int[] padded = [4, 9, 1, 0, 0, 0, 0, 0];
        float inLongerBatch = model.Score(padded, [3], count: 1, seqLen: 8)[0];

        // Relative 1e-5 (fp32 round-off): the longer batch runs its GEMMs at another row count, whose blocking,
        // and so summation order, the BLAS picks per host (1e-7 held on one host and failed at 7e-7 on another).
        Assert.That(inLongerBatch, Is.EqualTo(alone).Within(1e-3).Percent);
        Assert.That((double)alone,
            Is.EqualTo(new ReferenceRewardModel(Tiny, Values(model)).Reward(sequence)).Within(1e-4).Percent);
    }

    [Test]
    public void WeightedLossIsTheWeightedMeanOfThePairLosses()
    {
        int[] lengths = [3, 2, 3, 4];
        int[] tokens = Tokens(new Random(7), Tiny, lengths, seqLen: 4);
        float[] weights = [3f, 1f];

        PairStepResult result = model.ForwardBackward(tokens, lengths, pairs: 2, seqLen: 4, weights: weights);

        double[] pairLoss = [.. Enumerable.Range(0, 2).Select(i =>
            Math.Log(1 + Math.Exp(result.RejectedRewards[i] - result.ChosenRewards[i])))];
        Assert.That(result.Loss, Is.EqualTo((3 * pairLoss[0] + pairLoss[1]) / 4).Within(1e-5).Percent);
    }

    [Test]
    public void BatchesOfDifferentShapesCanAlternate()
    {
        int[] lengths = [2, 3];
        int[] tokens = Tokens(new Random(8), Tiny, lengths, seqLen: 3);
        float[] before = model.Score(tokens, lengths, count: 2, seqLen: 3);

        model.Score(Tokens(new Random(9), Tiny, [5, 1, 4], 5), [5, 1, 4], count: 3, seqLen: 5);

        Assert.That(model.Score(tokens, lengths, count: 2, seqLen: 3), Is.EqualTo(before));
    }
}
