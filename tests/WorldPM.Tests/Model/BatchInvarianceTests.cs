using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// A sequence's reward is a function of that sequence and the weights alone: the same bits whatever else is in its
/// batch, however many sequences the batch holds, wherever in the batch the sequence sits, however long its
/// companions are (so however much padding the batch has) and whether the batch is padded or packed. The reference is each sequence scored alone, a batch of
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

    /// <summary>A model in <see cref="RewardModel.BatchInvariant"/> mode whose weights are far from the near-linear
    /// initial ones, scaled by fan-in so activations stay of order one through both layers: every nonlinearity and the
    /// head see varied values.</summary>
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
        model.BatchInvariant = true;
        return model;
    }

    /// <summary>A model of <paramref name="precision"/> on a fresh context, the sequences, and each one's reward scored
    /// alone (the reference every batch is held to), with the mismatches found so far.</summary>
    private sealed class Scoring : IDisposable
    {
        private readonly WorldPMContext context = Context();
        private readonly List<string> mismatches = [];

        public Scoring(Precision precision)
        {
            Model = BatchInvarianceTests.Model(context, precision);
            Alone = [.. Sequences.Select(s => Model.Score(SequenceBatch.FromSequences(Config, [s]))[0])];
        }

        public RewardModel Model { get; }

        public int[][] Sequences { get; } = BatchInvarianceTests.Sequences();

        public float[] Alone { get; }

        /// <summary>Scores <paramref name="members"/> (indices into <see cref="Sequences"/>) as one batch laid out as
        /// <paramref name="layout"/> and notes every reward whose bits differ from the sequence's reward alone.</summary>
        public void ScoreAndCompare(int[] members, SequenceLayout layout = SequenceLayout.Padded)
        {
            float[] rewards = Model.Score(SequenceBatch.FromSequences(Config, [.. members.Select(i => Sequences[i])], layout));
            int longest = members.Max(m => Sequences[m].Length);
            for (int position = 0; position < members.Length; position++)
                Compare(rewards[position], members[position],
                    $"at position {position} of {members.Length} ({layout.ToString().ToLowerInvariant()}, longest {longest})");
        }

        /// <summary>Notes <paramref name="reward"/> of sequence <paramref name="i"/> if its bits differ from the
        /// sequence's reward alone.</summary>
        public void Compare(float reward, int i, string where)
        {
            if (Bits(reward) == Bits(Alone[i])) return;
            mismatches.Add($"sequence {i} (length {Sequences[i].Length}) {where}: {reward:R} vs {Alone[i]:R} alone, " +
                $"{Ulps(reward, Alone[i])} ulps");
        }

        public void AssertNoMismatch() => Assert.That(mismatches, Is.Empty,
            $"{mismatches.Count} rewards differ from the sequence scored alone:\n" + string.Join("\n", mismatches.Take(20)));

        public void Dispose()
        {
            Model.Dispose();
            context.Dispose();
        }
    }

    [TestCaseSource(nameof(Precisions))]
    public void EveryBatchSizeGivesTheBitsOfTheSequenceScoredAlone(Precision precision)
    {
        using var scoring = new Scoring(precision);
        var random = new Random(41);
        foreach (int size in new[] { 2, 3, 7, 16 })
            for (int trial = 0; trial < Trials(size); trial++)
                scoring.ScoreAndCompare([.. Enumerable.Range(0, scoring.Sequences.Length).OrderBy(_ => random.Next()).Take(size)]);
        scoring.AssertNoMismatch();
    }

    [TestCaseSource(nameof(Precisions))]
    public void EveryPositionInABatchGivesTheSameBits(Precision precision)
    {
        using var scoring = new Scoring(precision);
        int[] companions = [0, 5, 9, 11, 13, 15];
        int[] probes = TestBackend.IsEmulated ? [8] : [3, 8, 12];
        foreach (int probe in probes)
            for (int position = 0; position <= companions.Length; position++)
            {
                List<int> members = [.. companions];
                members.Insert(position, probe);
                scoring.ScoreAndCompare([.. members]);
            }
        scoring.AssertNoMismatch();
    }

    [TestCaseSource(nameof(Precisions))]
    public void CompanionsOfEveryLengthLeaveTheRewardAlone(Precision precision)
    {
        using var scoring = new Scoring(precision);
        // A sequence of 40 tokens beside one shorter, as long, and longer (padding from 0 to 110 rows per sequence).
        foreach (int companion in Enumerable.Range(0, scoring.Sequences.Length))
            scoring.ScoreAndCompare([5, companion]);
        scoring.AssertNoMismatch();
    }

    /// <summary>A packed batch (the sequences end to end, no padding) gives each sequence the bits of the sequence
    /// scored alone in a padded batch of one: batches of every size, every companion.</summary>
    [TestCaseSource(nameof(Precisions))]
    public void PackedBatchesGiveTheBitsOfTheSequenceScoredAlone(Precision precision)
    {
        using var scoring = new Scoring(precision);
        var random = new Random(43);
        foreach (int size in new[] { 1, 2, 7, 16 })
            for (int trial = 0; trial < Trials(size); trial++)
                scoring.ScoreAndCompare([.. Enumerable.Range(0, scoring.Sequences.Length).OrderBy(_ => random.Next()).Take(size)],
                    SequenceLayout.Packed);
        foreach (int companion in TestBackend.IsEmulated ? [0, 9, 15] : Enumerable.Range(0, scoring.Sequences.Length))
        {
            scoring.ScoreAndCompare([5, companion], SequenceLayout.Packed);
            scoring.ScoreAndCompare([companion, 5], SequenceLayout.Packed);
        }
        scoring.AssertNoMismatch();
    }

    /// <summary>The training forward computes the rewards the loss sees with the same ops: a pair's rewards in a step
    /// are the bits it scores alone, whatever the other pairs of the step and whether they are packed.</summary>
    [TestCase(SequenceLayout.Padded)]
    [TestCase(SequenceLayout.Packed)]
    public void ATrainingStepSeesTheRewardsOfEachSequenceAlone(SequenceLayout layout)
    {
        using var scoring = new Scoring(Precision.F32);
        int[] chosen = [2, 9, 14, 7], rejected = [12, 0, 6, 15];
        var batch = new PairBatch(Config,
            [.. chosen.Zip(rejected, (c, r) => new TokenizedPair(scoring.Sequences[c], scoring.Sequences[r]))], layout);
        PairStepResult step = scoring.Model.ForwardBackward(batch);
        for (int p = 0; p < chosen.Length; p++)
        {
            scoring.Compare(step.ChosenRewards[p], chosen[p], $"chosen in pair {p} of a training step");
            scoring.Compare(step.RejectedRewards[p], rejected[p], $"rejected in pair {p} of a training step");
        }
        scoring.AssertNoMismatch();
    }

    /// <summary>The test must be able to fail: two sequences that differ in one token get different rewards, so a
    /// comparison of bits would notice a reward taken from the wrong row or a batch that leaks between rows.</summary>
    [Test]
    public void RewardsOfDifferentSequencesDiffer()
    {
        using var scoring = new Scoring(Precision.F32);
        int[] changed = [.. scoring.Sequences[5]];
        changed[0] = (changed[0] + 1) % Config.VocabSize;
        float[] rewards = scoring.Model.Score(SequenceBatch.FromSequences(Config, [scoring.Sequences[5], changed, scoring.Sequences[6]]));
        Assert.That(Bits(rewards[1]), Is.Not.EqualTo(Bits(rewards[0])));
        Assert.That(Bits(rewards[2]), Is.Not.EqualTo(Bits(rewards[0])));
    }

    /// <summary>Random batches per size (one on the emulator, whose attention is slow).</summary>
    private static int Trials(int size) => TestBackend.IsEmulated ? 1 : size == 16 ? 2 : 3;

    private static int Bits(float value) => BitConverter.SingleToInt32Bits(value);

    /// <summary>How many representable floats apart two finite floats of the same sign are.</summary>
    private static long Ulps(float a, float b) => Math.Abs((long)Bits(a) - Bits(b));

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
