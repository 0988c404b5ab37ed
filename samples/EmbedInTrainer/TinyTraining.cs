using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace EmbedInTrainer;

/// <summary>
/// Trains a tiny reward model with the WorldPM package's <see cref="RewardModel"/> and <see cref="Trainer"/> on pairs
/// made up here, the way a trainer with its own data would feed it token ids.
/// </summary>
internal static class TinyTraining
{
    // Token ids of a made-up vocabulary: the preferred response carries GOOD somewhere, the rejected one BAD at the same
    // place; everything else is filler. The model must find the marker through attention from the scoring token.
    private const int Vocabulary = 32, Good = 1, Bad = 2, FirstFiller = 3, ScoringToken = Vocabulary - 1;
    private const int Steps = 20, PairsPerStep = 16, HeldOutPairs = 64;

    public static void Run(WorldPMContext context, Checks checks)
    {
        ModelConfig config = ModelConfig.Small(Vocabulary, maxPositions: 32);
        using var model = new RewardModel(context, config, seed: 7);
        var options = new TrainingOptions
        {
            PairsPerMicroBatch = PairsPerStep,
            LearningRate = 1e-3,
            WeightDecay = 0,
            WarmupFraction = 0,
            Seed = 7,
        };
        using var trainer = new Trainer(context, model, options, totalSteps: Steps);

        var data = new Random(11);
        var heldOut = new PairBatch(config, Enumerable.Range(0, HeldOutPairs).Select(_ => MakePair(data)).ToList());
        (double lossBefore, double accuracyBefore) = Evaluate(model, heldOut);
        Console.WriteLine($"training: {config.NumHiddenLayers} layers, d {config.HiddenSize}, {Steps} steps of " +
                          $"{PairsPerStep} pairs; held-out BT loss {lossBefore:F4}, accuracy {accuracyBefore:P0} before");

        var losses = new List<double>();
        for (int step = 1; step <= Steps; ++step)
        {
            var batch = new PairBatch(config, Enumerable.Range(0, PairsPerStep).Select(_ => MakePair(data)).ToList());
            StepMetrics metrics = trainer.TrainStep([batch]);
            losses.Add(metrics.Loss);
            if (step == 1 || step % 2 == 0)
                Console.WriteLine($"  step {step,3}  loss {metrics.Loss:F4}  accuracy {metrics.Accuracy:P0}  " +
                                  $"grad norm {metrics.GradNorm:F3}");
        }

        (double lossAfter, double accuracyAfter) = Evaluate(model, heldOut);
        Console.WriteLine($"held-out BT loss {lossBefore:F4} -> {lossAfter:F4}, accuracy {accuracyBefore:P0} -> {accuracyAfter:P0}");

        double firstFive = losses.Take(5).Average(), lastFive = losses.TakeLast(5).Average();
        checks.Expect("training-loss-goes-down", double.IsFinite(lastFive) && lastFive < 0.8 * firstFive,
            $"mean training loss of steps 1-5 {firstFive:F4}, of steps {Steps - 4}-{Steps} {lastFive:F4} (must drop by 20 %)");
        checks.Expect("training-held-out-loss-goes-down", double.IsFinite(lossAfter) && lossAfter < 0.8 * lossBefore,
            $"held-out BT loss {lossBefore:F4} -> {lossAfter:F4} (must drop by 20 %), computed here from the model's scores");
    }

    /// <summary>A prompt of filler tokens, then a response of filler with GOOD (chosen) or BAD (rejected) at one random
    /// place, then the scoring token the reward is read at.</summary>
    private static TokenizedPair MakePair(Random random)
    {
        int promptLength = random.Next(2, 7), responseLength = random.Next(3, 8), marker = random.Next(responseLength);
        var chosen = new List<int>();
        for (int i = 0; i < promptLength + responseLength; ++i) chosen.Add(random.Next(FirstFiller, ScoringToken));
        chosen.Add(ScoringToken);
        var rejected = new List<int>(chosen);
        chosen[promptLength + marker] = Good;
        rejected[promptLength + marker] = Bad;
        return new TokenizedPair(chosen.ToArray(), rejected.ToArray());
    }

    /// <summary>Mean Bradley-Terry loss and accuracy of the held-out pairs, from <see cref="RewardModel.Score(SequenceBatch)"/>
    /// (rows 0..P-1 of a PairBatch are the chosen sequences, P..2P-1 the rejected ones), in float64 here.</summary>
    private static (double Loss, double Accuracy) Evaluate(RewardModel model, PairBatch pairs)
    {
        float[] rewards = model.Score(pairs.Sequences);
        double loss = 0;
        int right = 0;
        for (int i = 0; i < pairs.Pairs; ++i)
        {
            double delta = (double)rewards[i] - rewards[pairs.Pairs + i];
            loss += Reference.Softplus(-delta);
            if (delta > 0) ++right;
        }
        return (loss / pairs.Pairs, (double)right / pairs.Pairs);
    }
}
