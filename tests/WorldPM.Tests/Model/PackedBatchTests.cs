using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// Packed batches (<see cref="SequenceLayout.Packed"/>): the layout is what the varlen convention says, computed here
/// from the sequences by hand, and the model run on it is the same function as on the padded layout of the same
/// pairs (the padded path is the one checked against the float64 reference model): loss, rewards and every parameter
/// gradient, with the last layer at the scoring rows or at every token, with recomputation, in fp32 and bf16, for
/// pairs of very different lengths and sequences of one token.
/// </summary>
public class PackedBatchTests
{
    private static readonly ModelConfig Config = Tiny with { MaxPositionEmbeddings = 128 };

    /// <summary>Chosen and rejected lengths: one token beside 90, both sides of the attention's 64-row blocks.</summary>
    private static readonly int[] Chosen = [1, 90, 3, 64, 1], Rejected = [70, 1, 2, 9, 1];

    private static TokenizedPair[] Pairs(int seed)
    {
        var random = new Random(seed);
        int[] Ids(int length) => [.. Enumerable.Range(0, length).Select(_ => random.Next(Config.VocabSize))];
        return [.. Chosen.Zip(Rejected, (c, r) => new TokenizedPair(Ids(c), Ids(r), Weight: 1 + c % 3))];
    }

    [Test]
    public void ThePackedLayoutIsTheSequencesEndToEnd()
    {
        int[][] sequences = [[4, 5, 6], [7], [8, 9, 10, 1], [2, 3]];
        SequenceBatch batch = SequenceBatch.FromSequences(Config, sequences, SequenceLayout.Packed);

        int[] tokens = [], offsets = [0], positions = [], ends = [];
        foreach (int[] s in sequences)
        {
            tokens = [.. tokens, .. s];
            positions = [.. positions, .. Enumerable.Range(0, s.Length)];
            offsets = [.. offsets, offsets[^1] + s.Length];
            ends = [.. ends, offsets[^1] - 1];
        }
        Assert.That(batch.Layout, Is.EqualTo(SequenceLayout.Packed));
        Assert.That(batch.Tokens.ToArray(), Is.EqualTo(tokens));
        Assert.That(batch.Offsets.ToArray(), Is.EqualTo(offsets));
        Assert.That(batch.Positions.ToArray(), Is.EqualTo(positions));
        Assert.That(batch.ScoringRows.ToArray(), Is.EqualTo(ends));
        Assert.That(batch.ScoringPositions.ToArray(), Is.EqualTo(new[] { 2, 0, 3, 1 }));
        Assert.That((batch.Count, batch.Rows, batch.TokenCount, batch.SeqLen), Is.EqualTo((4, 10, 10L, 4)));
    }

    [Test]
    public void ALayoutChangeKeepsTheSequences()
    {
        int[][] sequences = [[4, 5, 6], [7], [8, 9, 10, 1]];
        SequenceBatch padded = SequenceBatch.FromSequences(Config, sequences);
        SequenceBatch packed = padded.WithLayout(SequenceLayout.Packed);

        Assert.That(packed.Tokens.ToArray(), Is.EqualTo(new[] { 4, 5, 6, 7, 8, 9, 10, 1 }));
        Assert.That(packed.WithLayout(SequenceLayout.Padded).Tokens.ToArray(), Is.EqualTo(padded.Tokens.ToArray()));
        Assert.That(padded.ScoringRows.ToArray(), Is.EqualTo(new[] { 2, 4, 11 }));
        Assert.That(packed.Positions.ToArray(), Is.EqualTo(new[] { 0, 1, 2, 0, 0, 1, 2, 3 }));
    }

    [Test]
    public void APackedBatchIsCheckedLikeAPaddedOne()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            SequenceBatch.FromSequences(Config, [[1, 2], []], SequenceLayout.Packed));
        Assert.That(e!.ParamName, Is.EqualTo("sequences"));
        Assert.That(e.Message, Does.Contain("sequence 1 is empty"));
        e = Assert.Throws<ArgumentException>(() =>
            SequenceBatch.FromSequences(Config, [[1, 2], [3, Config.VocabSize]], SequenceLayout.Packed));
        Assert.That(e!.Message, Does.Contain("sequences[1, 1] is 11"));
        e = Assert.Throws<ArgumentException>(() =>
            new PairBatch(Config, [new TokenizedPair([1], new int[Config.MaxPositionEmbeddings + 1])], SequenceLayout.Packed));
        Assert.That(e!.Message, Does.Contain("max_position_embeddings"));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceBatch.FromSequences(Config, [[1]], (SequenceLayout)7));
    }

    [TestCase(Precision.F32, false, false, 1e-5)]
    [TestCase(Precision.F32, true, false, 1e-5)]
    [TestCase(Precision.F32, false, true, 1e-5)]
    [TestCase(Precision.BF16, false, false, 3e-2)]
    public void PackedAndPaddedGiveTheSameLossRewardsAndGradients(Precision precision, bool fullLastLayer, bool recompute,
        double tolerance)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Config, seed: 3, precision)
        {
            FullLastLayer = fullLastLayer,
            RecomputeActivations = recompute,
        };
        Randomize(model, seed: 21);
        TokenizedPair[] pairs = Pairs(seed: 8);

        PairStepResult padded = model.ForwardBackward(new PairBatch(Config, pairs));
        Dictionary<string, float[]> paddedGrads = Grads(model);
        model.ZeroGrad();
        PairStepResult packed = model.ForwardBackward(new PairBatch(Config, pairs, SequenceLayout.Packed));

        Assert.That(RelativeError(Rewards(packed), Rewards(padded)), Is.LessThanOrEqualTo(tolerance), "rewards");
        Assert.That(packed.Loss, Is.EqualTo(padded.Loss).Within(tolerance * 100).Percent, "loss");
        foreach ((string name, float[] grad) in Grads(model))
        {
            double[] g = Array.ConvertAll(grad, v => (double)v), gRef = Array.ConvertAll(paddedGrads[name], v => (double)v);
            // score.2.bias: an exact zero gradient (it cancels in r_chosen - r_rejected), round-off on both sides.
            if (Norm(gRef) < 1e-6) Assert.That(Norm(g), Is.LessThan(1e-6), name);
            else Assert.That(RelativeError(g, gRef), Is.LessThanOrEqualTo(tolerance), name);
        }
    }

    [TestCase(Precision.F32, 1e-5)]
    [TestCase(Precision.BF16, 3e-2)]
    public void PackedAndPaddedScoreTheSame(Precision precision, double tolerance)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Config, seed: 3, precision);
        Randomize(model, seed: 5);
        SequenceBatch padded = new PairBatch(Config, Pairs(seed: 2)).Sequences;

        double[] Score(SequenceBatch batch) => Array.ConvertAll(model.Score(batch), v => (double)v);
        double[] expected = Score(padded);
        Assert.That(RelativeError(Score(padded.WithLayout(SequenceLayout.Packed)), expected), Is.LessThanOrEqualTo(tolerance));
    }

    /// <summary>The agreement above must be able to fail: a packed batch whose sequences leaked into each other (the
    /// same tokens as one sequence) scores differently.</summary>
    [Test]
    public void SequencesOfAPackedBatchDoNotSeeEachOther()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Config, seed: 3);
        Randomize(model, seed: 5);
        int[] first = [1, 2, 3, 4], second = [5, 6, 7];

        float[] apart = model.Score(SequenceBatch.FromSequences(Config, [first, second], SequenceLayout.Packed));
        float[] joined = model.Score(SequenceBatch.FromSequences(Config, [[.. first, .. second]], SequenceLayout.Packed));
        float[] alone = model.Score(SequenceBatch.FromSequences(Config, [second]));

        Assert.That(apart[1], Is.EqualTo(alone[0]).Within(1e-3).Percent);
        Assert.That(joined[0], Is.Not.EqualTo(apart[1]).Within(1e-3).Percent);
    }
}
