using WorldPM.Evaluation;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Evaluation;

/// <summary>A NaN or infinite reward stops evaluation with the pair named, instead of counting as a lost comparison.</summary>
public class NonFiniteRewardTests
{
    [Test]
    public void FiniteRewardsPassAndTheFirstBadOneIsNamed()
    {
        Assert.DoesNotThrow(() => FiniteRewards.Require([0f, -3.5f, float.MaxValue], i => $"item {i}"));
        var e = Assert.Throws<InvalidDataException>(() =>
            FiniteRewards.Require([1f, float.NegativeInfinity, float.NaN], i => $"item {i}"));
        Assert.That(e!.Message, Does.Contain("-infinite reward for item 1"));
    }

    [Test]
    public void EvaluatingAModelWithANaNWeightNamesThePair()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2);
        var random = new Random(3);
        int[] Sequence() => [.. Enumerable.Range(0, 6).Select(_ => random.Next(Tiny.VocabSize))];
        var pairs = Enumerable.Range(0, 5).Select(_ => new TokenizedPair(Sequence(), Sequence())).ToList();
        Assert.DoesNotThrow(() => Evaluator.Evaluate(model, pairs, pairsPerBatch: 2), "finite weights, finite rewards");

        // The head's output bias reaches every reward, so every reward becomes NaN; the first pair is named.
        Parameter bias = model.Parameters.Single(p => p.Name == "score.2.bias");
        bias.Value.CopyFrom([float.NaN]);
        model.SyncWorkingWeights();

        var e = Assert.Throws<InvalidDataException>(() => Evaluator.Evaluate(model, pairs, pairsPerBatch: 2));
        Assert.That(e!.Message, Does.Contain("NaN reward for the chosen response of pair 1"));
    }
}
