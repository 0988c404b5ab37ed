using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// A sequence's reward is a function of that sequence and the weights alone: the same bits whatever else is in its
/// batch, however many sequences the batch holds, wherever in the batch the sequence sits and however long its
/// companions are (so however much padding the batch has). The reference is each sequence scored alone, a batch of
/// one; every other batch must reproduce those bits exactly (compared as integers, so -0 and 0 or two NaNs do not
/// pass for each other). The model is large enough for the shapes that choose different BLAS code paths to come up:
/// GEMMs on one thread and on several, K of the MLP's down_proj above OpenBLAS's K blocking, sequences over one
/// 64-row attention query block. Run it with OPENBLAS_CORETYPE=Haswell and =SkylakeX too: the property must not
/// rest on one BLAS kernel's luck.
/// </summary>
public class BatchInvarianceTests
{
    private static readonly ModelConfig Config = new()
    {
        VocabSize = 97,
        HiddenSize = 256,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        IntermediateSize = 1024,
        HeadHiddenSize = 64,
        MaxPositionEmbeddings = 160,
    };

    /// <summary>Short and long, on both sides of the attention's 64-row blocks and of the GEMMs' row blocks.</summary>
    private static readonly int[] Lengths = [1, 2, 5, 17, 31, 40, 63, 64, 65, 70, 81, 96, 100, 120, 127, 150];

    private static IEnumerable<Precision> Precisions => [Precision.F32, Precision.BF16, Precision.F16];

    private static int[][] Sequences()
    {
        var random = new Random(17);
        return [.. Lengths.Select(length => Enumerable.Range(0, length).Select(_ => random.Next(Config.VocabSize)).ToArray())];
    }

    /// <summary>A model whose weights are far from the near-linear initial ones, scaled by fan-in so activations stay
    /// of order one through both layers: every nonlinearity and the head see varied values.</summary>
    private static RewardModel Model(WorldPMContext context, Precision precision)
    {
        var model = new RewardModel(context, Config, seed: 5, precision);
        var random = new Random(23);
        foreach (Parameter p in model.Parameters)
        {
            bool norm = p.Name.EndsWith("norm.weight", StringComparison.Ordinal);
            bool bias = p.Name.EndsWith(".bias", StringComparison.Ordinal);
            double scale = norm || bias ? 0.2 : 1.5 / Math.Sqrt(p.Shape[^1]);
            float[] values = new float[p.Count];
            for (int i = 0; i < values.Length; i++) values[i] = (norm ? 1f : 0f) + (float)(scale * Normal(random));
            p.Value.CopyFrom(values);
        }
        model.SyncWorkingWeights();
        return model;
    }

    /// <summary>Each sequence's reward scored alone.</summary>
    private static float[] Alone(RewardModel model, int[][] sequences) =>
        [.. sequences.Select(s => model.Score(SequenceBatch.FromSequences(Config, [s]))[0])];

    /// <summary>Scores <paramref name="members"/> (indices into <paramref name="sequences"/>) as one batch and notes every
    /// reward whose bits differ from the sequence's reward alone.</summary>
    private static void ScoreAndCompare(RewardModel model, int[][] sequences, float[] alone, int[] members,
        List<string> mismatches)
    {
        float[] rewards = model.Score(SequenceBatch.FromSequences(Config, [.. members.Select(i => sequences[i])]));
        for (int position = 0; position < members.Length; position++)
        {
            int i = members[position];
            if (Bits(rewards[position]) == Bits(alone[i])) continue;
            mismatches.Add($"sequence {i} (length {sequences[i].Length}) at position {position} of {members.Length} " +
                $"(longest {members.Max(m => sequences[m].Length)}): {rewards[position]:R} vs {alone[i]:R} alone, " +
                $"{Ulps(rewards[position], alone[i])} ulps");
        }
    }

    [TestCaseSource(nameof(Precisions))]
    public void EveryBatchSizeGivesTheBitsOfTheSequenceScoredAlone(Precision precision)
    {
        using WorldPMContext context = Context();
        using RewardModel model = Model(context, precision);
        int[][] sequences = Sequences();
        float[] alone = Alone(model, sequences);
        var random = new Random(41);
        var mismatches = new List<string>();
        foreach (int size in new[] { 2, 3, 7, 16 })
            for (int trial = 0; trial < (size == 16 ? 2 : 3); trial++)
            {
                int[] members = [.. Enumerable.Range(0, sequences.Length).OrderBy(_ => random.Next()).Take(size)];
                ScoreAndCompare(model, sequences, alone, members, mismatches);
            }
        Assert.That(mismatches, Is.Empty, Summary(mismatches));
    }

    [TestCaseSource(nameof(Precisions))]
    public void EveryPositionInABatchGivesTheSameBits(Precision precision)
    {
        using WorldPMContext context = Context();
        using RewardModel model = Model(context, precision);
        int[][] sequences = Sequences();
        float[] alone = Alone(model, sequences);
        int[] companions = [0, 5, 9, 11, 13, 15];
        var mismatches = new List<string>();
        foreach (int probe in new[] { 3, 8, 12 })
            for (int position = 0; position <= companions.Length; position++)
            {
                List<int> members = [.. companions];
                members.Insert(position, probe);
                ScoreAndCompare(model, sequences, alone, [.. members], mismatches);
            }
        Assert.That(mismatches, Is.Empty, Summary(mismatches));
    }

    [TestCaseSource(nameof(Precisions))]
    public void CompanionsOfEveryLengthLeaveTheRewardAlone(Precision precision)
    {
        using WorldPMContext context = Context();
        using RewardModel model = Model(context, precision);
        int[][] sequences = Sequences();
        float[] alone = Alone(model, sequences);
        var mismatches = new List<string>();
        // A sequence of 40 tokens beside one shorter, as long, and longer (padding from 0 to 110 rows per sequence).
        foreach (int companion in Enumerable.Range(0, sequences.Length))
            ScoreAndCompare(model, sequences, alone, [5, companion], mismatches);
        Assert.That(mismatches, Is.Empty, Summary(mismatches));
    }

    /// <summary>The training forward computes the rewards the loss sees with the same ops: a pair's rewards in a step
    /// are the bits it scores alone, whatever the other pairs of the step.</summary>
    [Test]
    public void ATrainingStepSeesTheRewardsOfEachSequenceAlone()
    {
        using WorldPMContext context = Context();
        using RewardModel model = Model(context, Precision.F32);
        int[][] sequences = Sequences();
        float[] alone = Alone(model, sequences);
        int[] chosen = [2, 9, 14, 7], rejected = [12, 0, 6, 15];
        var batch = new PairBatch(Config, [.. chosen.Zip(rejected, (c, r) => new TokenizedPair(sequences[c], sequences[r]))]);
        PairStepResult step = model.ForwardBackward(batch);
        var mismatches = new List<string>();
        for (int p = 0; p < chosen.Length; p++)
        {
            if (Bits(step.ChosenRewards[p]) != Bits(alone[chosen[p]])) mismatches.Add($"pair {p} chosen: {Ulps(step.ChosenRewards[p], alone[chosen[p]])} ulps");
            if (Bits(step.RejectedRewards[p]) != Bits(alone[rejected[p]])) mismatches.Add($"pair {p} rejected: {Ulps(step.RejectedRewards[p], alone[rejected[p]])} ulps");
        }
        Assert.That(mismatches, Is.Empty, Summary(mismatches));
    }

    /// <summary>The test must be able to fail: two sequences that differ in one token get different rewards, so a
    /// comparison of bits would notice a reward taken from the wrong row or a batch that leaks between rows.</summary>
    [Test]
    public void RewardsOfDifferentSequencesDiffer()
    {
        using WorldPMContext context = Context();
        using RewardModel model = Model(context, Precision.F32);
        int[][] sequences = Sequences();
        int[] changed = [.. sequences[5]];
        changed[0] = (changed[0] + 1) % Config.VocabSize;
        float[] rewards = model.Score(SequenceBatch.FromSequences(Config, [sequences[5], changed, sequences[6]]));
        Assert.That(Bits(rewards[1]), Is.Not.EqualTo(Bits(rewards[0])));
        Assert.That(Bits(rewards[2]), Is.Not.EqualTo(Bits(rewards[0])));
    }

    private static int Bits(float value) => BitConverter.SingleToInt32Bits(value);

    /// <summary>How many representable floats apart two finite floats of the same sign are.</summary>
    private static long Ulps(float a, float b) => Math.Abs((long)Bits(a) - Bits(b));

    private static string Summary(List<string> mismatches) =>
        $"{mismatches.Count} rewards differ from the sequence scored alone:\n" + string.Join("\n", mismatches.Take(20));

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
