using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Tests.Training;

/// <summary>A few trainer steps on a dozen small chat pairs: what the tests that compare two runs step by step share.</summary>
internal static class ShortRuns
{
    /// <summary>Twelve pairs of different lengths through the Qwen chat template over bytes.</summary>
    public static List<TokenizedPair> ChatPairs(ScoringToken scoring, int maxLength)
    {
        var encoder = new PairEncoder(new ChatTemplate(ByteTokenizer.Instance, scoring), maxLength);
        return encoder.EncodeAll(Enumerable.Range(0, 12).Select(i => new PreferencePair(
            [new ChatTurn(ChatRole.User, $"q{i}?")], $"yes {new string('!', i % 4)}", i % 3 == 0 ? "no" : "maybe")));
    }

    /// <summary>
    /// <paramref name="steps"/> optimizer steps, step s on the next PairsPerMicroBatch x AccumulationSteps pairs
    /// (wrapping around), in micro-batches of PairsPerMicroBatch; returns each step's loss.
    /// </summary>
    public static double[] Train(Trainer trainer, ModelConfig config, List<TokenizedPair> pairs, TrainingOptions options,
        int steps)
    {
        int perStep = options.PairsPerMicroBatch * options.AccumulationSteps;
        return [.. Enumerable.Range(0, steps).Select(step =>
        {
            List<PairBatch> microBatches = [.. pairs.Skip(step * perStep % pairs.Count).Take(perStep)
                .Chunk(options.PairsPerMicroBatch).Select(chunk => new PairBatch(config, chunk))];
            return trainer.TrainStep(microBatches).Loss;
        })];
    }
}
