using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Training;

/// <summary>
/// Training with <see cref="TrainingOptions.RecomputeActivations"/> against the same run without: bitwise the same
/// loss curve and weights, on chat-template pairs scored at either scoring token.
/// </summary>
public class RecomputationTrainingTests
{
    private const int Steps = 5, MaxLength = 64;

    private static readonly ModelConfig Config = Tiny with
    {
        VocabSize = ByteTokenizer.Instance.VocabSize,
        NumHiddenLayers = 3,
        MaxPositionEmbeddings = MaxLength,
    };

    private static readonly TrainingOptions Optimizer = new()
    {
        PairsPerMicroBatch = 3, AccumulationSteps = 2, LearningRate = 1e-2, Seed = 5,
    };

    [TestCase(ScoringToken.EndOfText, Precision.F32)]
    [TestCase(ScoringToken.ImEnd, Precision.F32)]
    [TestCase(ScoringToken.EndOfText, Precision.BF16)]
    public void TheLossCurveAndWeightsAreBitwiseThoseWithoutRecomputation(ScoringToken scoring, Precision precision)
    {
        List<TokenizedPair> pairs = Pairs(scoring);

        Run kept = Train(pairs, precision, Optimizer);
        Run recomputed = Train(pairs, precision, Optimizer with { RecomputeActivations = true });

        Assert.That(recomputed.ActivationBytes, Is.LessThan(kept.ActivationBytes), "the trainer turned recomputation on");
        Assert.That(recomputed.Losses, Is.EqualTo(kept.Losses));
        Assert.That(recomputed.Losses.Distinct().Count(), Is.EqualTo(Steps), "the weights moved between steps");
        Assert.That(recomputed.Weights, Is.EqualTo(kept.Weights));
    }

    private sealed record Run(long[] Losses, int[] Weights, long ActivationBytes);

    /// <summary>Losses and weights as bits, so that equality is bitwise.</summary>
    private static Run Train(List<TokenizedPair> pairs, Precision precision, TrainingOptions options)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Config, seed: 2, precision);
        using var trainer = new Trainer(context, model, options, totalSteps: Steps);
        long[] losses = [.. ShortRuns.Train(trainer, model.Config, pairs, options, Steps).Select(BitConverter.DoubleToInt64Bits)];
        return new Run(losses, [.. model.ParameterValues.ToArray().Select(BitConverter.SingleToInt32Bits)],
            model.ActivationBytes);
    }

    private static List<TokenizedPair> Pairs(ScoringToken scoring) => ShortRuns.ChatPairs(scoring, MaxLength);
}
