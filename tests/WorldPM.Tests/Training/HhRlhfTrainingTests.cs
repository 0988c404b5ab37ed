using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tests.Data;
using WorldPM.Tokenization;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Training;

/// <summary>
/// Training on real preference data works end to end: a tiny model with the byte tokenizer fits a small
/// slice of hh-rlhf helpful-base. Pairs of real dialogues differ in many ways, so fitting them is a check
/// that data loading, the chat template, truncation, the forward, the backward and the optimizer agree.
/// (scripts/check_real_data.sh runs the bigger held-out version of this by hand.)
/// </summary>
public class HhRlhfTrainingTests
{
    private const int Pairs = 48;
    private const int MaxLength = 256;
    private const int Steps = 60;

    [Convergence]
    [Test]
    public void ATinyModelFitsASliceOfHelpfulBaseWellBelowChance()
    {
        string data = Path.Combine(SharedData.Root, "hh-rlhf", "helpful-base.test.jsonl.gz");
        List<PreferencePair> pairs = PreferenceDataset.Load(data).Pairs.Take(Pairs).ToList();
        var encoder = new PairEncoder(new ChatTemplate(ByteTokenizer.Instance), MaxLength);
        List<TokenizedPair> train = encoder.EncodeAll(pairs);
        Assert.That(train.SelectMany(p => new[] { p.Chosen.Length, p.Rejected.Length }).Max(), Is.LessThanOrEqualTo(MaxLength));
        Assert.That(encoder.Statistics.TruncatedPairs, Is.GreaterThan(0), "real dialogues are longer than 256 bytes: truncation is exercised");

        var losses = new List<double>();
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, ModelConfig.Small(ByteTokenizer.Instance.VocabSize, MaxLength), seed: 1);
        var options = new TrainingRunOptions
        {
            Training = new TrainingOptions { PairsPerMicroBatch = 16, LearningRate = 3e-3, WarmupFraction = 0.05, Seed = 1 },
            Steps = Steps,
        };
        TrainingRun.Run(context, model, train, null, options, onStep: m => losses.Add(m.Loss));

        Assert.That(losses[0], Is.EqualTo(Math.Log(2)).Within(0.01), "a fresh model scores both sides alike: BT loss log 2");
        Assert.That(losses.TakeLast(10).Average(), Is.LessThan(0.25), $"mean BT loss of the last 10 of {Steps} steps (log 2 = 0.693)");
    }
}
