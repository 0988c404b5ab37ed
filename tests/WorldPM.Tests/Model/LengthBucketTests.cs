using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// <see cref="LengthBuckets"/>: the ladder against a second construction of it (every m 2^k listed), and the filler a
/// recording runs a packed batch with against the batch without it: the same rewards and loss, and the same parameter
/// gradients bit for bit on emu (where recordings run) in every precision; on cpu (no recordings) within a relative
/// 1e-6.
/// </summary>
[BackendNeutral]  // names its backends itself
public class LengthBucketTests
{
    /// <summary>The ladder listed outright: 1..16, then m 2^k for 8 &lt;= m &lt; 16.</summary>
    private static readonly long[] Ladder =
    [
        .. Enumerable.Range(1, 16).Select(n => (long)n),
        .. Enumerable.Range(1, 27).SelectMany(k => Enumerable.Range(8, 8).Select(m => (long)m << k)).Where(v => v > 16),
    ];

    [Test]
    public void RoundIsTheNextValueOfTheLadderWastingLessThanAnEighth()
    {
        long[] ladder = [.. Ladder.Distinct().Order()];
        var random = new Random(7);
        int[] counts = [.. Enumerable.Range(1, 5000), .. Enumerable.Range(0, 2000).Select(_ => random.Next(1, 1 << 30))];
        foreach (int n in counts)
        {
            long expected = ladder.First(v => v >= n);
            Assert.That(LengthBuckets.Round(n), Is.EqualTo(expected), $"n = {n}");
            Assert.That(expected - n, Is.LessThan(Math.Max(1, n / 8.0)), $"n = {n}");
        }
    }

    [Test]
    public void MostFillerIsTheGapBelowARung()
    {
        long[] ladder = [.. Ladder.Distinct().Order()];
        for (int i = 1; i < ladder.Length && ladder[i] < 1 << 20; i++)
            Assert.That(LengthBuckets.MostFiller((int)ladder[i]), Is.EqualTo(ladder[i] - ladder[i - 1] - 1), $"{ladder[i]}");
        Assert.That(LengthBuckets.MostFiller(1), Is.EqualTo(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LengthBuckets.MostFiller(17));
    }

    private static SequenceBatch Packed(int seed, params int[] lengths)
    {
        var random = new Random(seed);
        return SequenceBatch.FromSequences(Tiny, [.. lengths.Select(n => Tokens(random, Tiny, [n], n))], SequenceLayout.Packed);
    }

    [Test]
    public void PadFillsTheStreamUpToItsBucketWithSequencesThatAreNotScored()
    {
        SequenceBatch real = Packed(1, 16, 9, 5, 3);  // 33 tokens: bucket 36, longest 16
        SequenceBatch padded = LengthBuckets.Pad(Tiny, real);

        Assert.That((padded.Count, padded.Rows, padded.SeqLen, padded.FillerSequences), Is.EqualTo((4, 36, 16, 1)));
        Assert.That(padded.TokenCount, Is.EqualTo(33), "real tokens only");
        Assert.That(padded.Offsets.ToArray(), Is.EqualTo(new[] { 0, 16, 25, 30, 33, 36 }));
        Assert.That(padded.Positions[33..].ToArray(), Is.EqualTo(new[] { 0, 1, 2 }), "the filler sequence's own positions");
        Assert.That(padded.ScoringRows.ToArray(), Is.EqualTo(real.ScoringRows.ToArray()));
        Assert.That(padded.Tokens[..33].ToArray(), Is.EqualTo(real.Tokens.ToArray()));
        // A count on the ladder needs no filler rows but keeps its bucket's filler sequence (empty): one shape.
        SequenceBatch full = LengthBuckets.Pad(Tiny, Packed(2, 16, 10, 5, 5));
        Assert.That((full.Rows, full.FillerSequences), Is.EqualTo((36, 1)));
        Assert.That(full.Offsets[^2..].ToArray(), Is.EqualTo(new[] { 36, 36 }));
        SequenceBatch paddedLayout = real.WithLayout(SequenceLayout.Padded);
        Assert.That(LengthBuckets.Pad(Tiny, paddedLayout), Is.SameAs(paddedLayout));
    }

    private static int[] Bits(IEnumerable<float> values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    // The same model runs the batch without and with its filler, eagerly: rewards, loss and every parameter gradient
    // must be the same bits; and scoring (batch-invariant, as worldpm score runs it) the same rewards.
    [TestCase(Backend.Cpu, Precision.F32)]
    [TestCase(Backend.Cpu, Precision.BF16)]
    [TestCase(Backend.Emu, Precision.F32)]
    [TestCase(Backend.Emu, Precision.F16)]
    [TestCase(Backend.Emu, Precision.BF16)]
    public void FillerChangesNoRewardLossOrGradient(Backend backend, Precision precision)
    {
        using WorldPMContext context = WorldPMContext.Create(backend, threads: 2);
        using var model = new RewardModel(context, Tiny, seed: 3, precision) { CudaGraphs = CudaGraphs.Off };
        Randomize(model, 9);
        // 8 sequences, 197 tokens: bucket 208 (11 filler rows in one filler sequence; bound 44, the longest 42 rounded).
        SequenceBatch real = Packed(3, 40, 17, 9, 33, 21, 30, 5, 42);
        SequenceBatch padded = LengthBuckets.Pad(Tiny, real);
        Assert.That((padded.Rows, padded.FillerSequences), Is.EqualTo((208, 1)));

        PairStepResult expected = model.ForwardBackward(new PairBatch(real));
        float[] expectedGradients = model.ParameterGradients.ToFloats();
        model.ZeroGrad();
        PairStepResult actual = model.ForwardBackward(new PairBatch(padded));
        float[] actualGradients = model.ParameterGradients.ToFloats();

        Assert.That(BitConverter.SingleToInt32Bits(actual.Loss), Is.EqualTo(BitConverter.SingleToInt32Bits(expected.Loss)));
        Assert.That(Bits(Rewards(actual).Select(r => (float)r)), Is.EqualTo(Bits(Rewards(expected).Select(r => (float)r))));
        if (backend == Backend.Emu)
        {
            Assert.That(Bits(actualGradients), Is.EqualTo(Bits(expectedGradients)), "parameter gradients");
        }
        else
        {
            // The cpu backend (which never records, so never runs filler) splits its GEMMs' reductions over the token
            // rows by their count, so some weight gradients move by a few ulp.
            double error = RelativeError([.. actualGradients.Select(g => (double)g)], [.. expectedGradients.Select(g => (double)g)]);
            int differing = actualGradients.Zip(expectedGradients).Count(p => p.First != p.Second);
            TestContext.Out.WriteLine($"cpu {precision}: {differing} of {actualGradients.Length} gradients differ, relative error {error:E2}");
            Assert.That(error, Is.LessThan(1e-6), "parameter gradients");
        }
        Assert.That(expectedGradients.Count(g => g != 0), Is.GreaterThan(expectedGradients.Length / 2));

        model.BatchInvariant = true;
        Assert.That(Bits(model.Score(padded)), Is.EqualTo(Bits(model.Score(real))), "batch-invariant scores");
    }
}
