using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// <see cref="RewardModel.CudaGraphs"/> on emu, which enforces the capture rules a GPU has: with On the scoring forward
/// is recorded once per batch shape and replayed, padded or packed, so these tests prove it capturable; its rewards
/// must be the bits of the eager forward (a twin model with Off, same weights, same batches), and a replayed batch
/// must wait for the device once, for its rewards.
/// </summary>
[BackendNeutral]  // names its backends itself: WORLDPM_BACKEND changes nothing for it
public class ScoringGraphTests
{
    /// <summary>Two models with the same weights on emu contexts of their own: graphs On and Off.</summary>
    private sealed class Twins : IDisposable
    {
        public Twins(Precision precision)
        {
            (GraphContext, GraphModel) = Twin(CudaGraphs.On, precision);
            (EagerContext, EagerModel) = Twin(CudaGraphs.Off, precision);
        }

        public WorldPMContext GraphContext { get; }
        public RewardModel GraphModel { get; }
        public WorldPMContext EagerContext { get; }
        public RewardModel EagerModel { get; }

        private static (WorldPMContext Context, RewardModel Model) Twin(CudaGraphs graphs, Precision precision)
        {
            WorldPMContext context = WorldPMContext.Create(Backend.Emu, threads: 2);
            var model = new RewardModel(context, Tiny, seed: 3, precision);
            Randomize(model, 9);
            model.CudaGraphs = graphs;
            return (context, model);
        }

        public void Dispose()
        {
            GraphModel.Dispose();
            GraphContext.Dispose();
            EagerModel.Dispose();
            EagerContext.Dispose();
        }
    }

    private static (int[] Tokens, int[] Lengths) Batch(int seed, int[] lengths, int seqLen) =>
        (Tokens(new Random(seed), Tiny, lengths, seqLen), lengths);

    private static int[] Bits(float[] values) => Array.ConvertAll(values, BitConverter.SingleToInt32Bits);

    [TestCase(Precision.F32)]
    [TestCase(Precision.BF16)]
    public void ScoresWithGraphsAreTheBitsOfTheEagerForward(Precision precision)
    {
        using var twins = new Twins(precision);
        // Shape A three times (eager, recorded, replayed), shape B twice, then A again (recorded afresh).
        var batches = new[]
        {
            Batch(1, [5, 3, 7], 8), Batch(2, [8, 1, 4], 8), Batch(3, [2, 2, 6], 8),
            Batch(4, [9, 4], 12), Batch(5, [12, 1], 12), Batch(6, [1, 8, 3], 8), Batch(7, [6, 6, 6], 8),
        };
        var seen = new HashSet<string>();
        foreach (var (tokens, lengths) in batches)
        {
            int seqLen = tokens.Length / lengths.Length;
            float[] replayed = twins.GraphModel.Score(tokens, lengths, lengths.Length, seqLen);
            float[] eager = twins.EagerModel.Score(tokens, lengths, lengths.Length, seqLen);
            Assert.That(Bits(replayed), Is.EqualTo(Bits(eager)), $"batch of lengths {string.Join(",", lengths)}");
            seen.Add(string.Join(",", Bits(eager)));
        }
        Assert.That(seen, Has.Count.EqualTo(batches.Length), "each batch scores differently");
        // A: recorded at its 2nd batch, replayed at its 2nd and 3rd; B: at its 2nd; A afresh: at its 2nd.
        Assert.That(twins.GraphModel.ScoringReplays, Is.EqualTo(4));
        Assert.That(twins.EagerModel.ScoringReplays, Is.EqualTo(0));
    }

    private static SequenceBatch PackedBatch(int seed, int[] lengths)
    {
        var random = new Random(seed);
        return SequenceBatch.FromSequences(Tiny, [.. lengths.Select(n => Enumerable.Range(0, n)
            .Select(_ => random.Next(Tiny.VocabSize)).ToArray())], SequenceLayout.Packed);
    }

    // A packed shape is its sequence and token counts; the recording's attention grid covers the longest sequence of
    // the batch it recorded, so a shorter one replays it and a longer one records afresh.
    [TestCase(Precision.F32)]
    [TestCase(Precision.BF16)]
    public void PackedScoresWithGraphsAreTheBitsOfTheEagerForward(Precision precision)
    {
        using var twins = new Twins(precision);
        int[][] batches =
        [
            [5, 3, 7],   // 3 sequences, 15 tokens: eager
            [7, 7, 1],   // recorded (longest 7) and replayed
            [6, 5, 4],   // replayed: 6 <= 7
            [2, 13],     // 2 sequences: another shape, eager
            [12, 1, 2],  // 3 again: the shape's first batch, eager
            [4, 4, 7],   // recorded (longest 7) and replayed
            [10, 1, 4],  // 10 > 7: eager, the shape starts over
            [9, 3, 3],   // recorded (longest 9) and replayed
            [3, 3, 9],   // replayed: 9 <= 9
        ];
        var seen = new HashSet<string>();
        for (int i = 0; i < batches.Length; i++)
        {
            SequenceBatch batch = PackedBatch(i + 1, batches[i]);
            DeviceCounters before = twins.GraphContext.DeviceCounters!;
            float[] replayed = twins.GraphModel.Score(batch);
            if (i == batches.Length - 1)
            {
                Assert.That(twins.GraphContext.DeviceCounters!.Since(before).HostWaits, Is.EqualTo(1),
                    "a replay waits for its rewards only");
            }
            float[] eager = twins.EagerModel.Score(batch);
            Assert.That(Bits(replayed), Is.EqualTo(Bits(eager)), $"packed lengths {string.Join(",", batches[i])}");
            seen.Add(string.Join(",", Bits(eager)));
        }
        Assert.That(seen, Has.Count.EqualTo(batches.Length), "each batch scores differently");
        Assert.That(twins.GraphModel.ScoringReplays, Is.EqualTo(5));
        Assert.That(twins.EagerModel.ScoringReplays, Is.EqualTo(0));
    }

    // Packed batches whose token counts all differ (33 to 36 tokens, longest 16): a recording runs each rounded up to
    // its length bucket (36 rows: the real tokens, then a filler sequence), so all share one recording; the eager twin
    // runs the real tokens only. The last batch (37 tokens, bucket 40) starts a new shape. Batch-invariant or not.
    [TestCase(Precision.F32, false)]
    [TestCase(Precision.F32, true)]
    [TestCase(Precision.BF16, false)]
    public void PackedBatchesOfVaryingLengthsReplayTheirLengthBucket(Precision precision, bool batchInvariant)
    {
        using var twins = new Twins(precision);
        twins.GraphModel.BatchInvariant = twins.EagerModel.BatchInvariant = batchInvariant;
        int[][] batches = [[16, 9, 5, 3], [12, 16, 2, 4], [7, 7, 16, 5], [16, 6, 8, 6], [3, 15, 14, 2], [16, 9, 9, 3]];
        var seen = new HashSet<string>();
        for (int i = 0; i < batches.Length; i++)
        {
            SequenceBatch batch = PackedBatch(20 + i, batches[i]);
            float[] replayed = twins.GraphModel.Score(batch);
            float[] eager = twins.EagerModel.Score(batch);
            Assert.That(Bits(replayed), Is.EqualTo(Bits(eager)), $"packed lengths {string.Join(",", batches[i])}");
            seen.Add(string.Join(",", Bits(eager)));
        }
        Assert.That(seen, Has.Count.EqualTo(batches.Length), "each batch scores differently");
        Assert.That(batches.Select(b => b.Sum()).Distinct().Count(), Is.EqualTo(batches.Length - 1), "token counts");
        // Recorded at the 2nd batch and replayed through the 5th; the 6th is a new bucket.
        Assert.That(twins.GraphModel.ScoringReplays, Is.EqualTo(4));
    }

    [Test]
    public void AReplayedForwardWaitsOnceForItsRewardsAndLaunchesWhatTheEagerOneDoes()
    {
        using var twins = new Twins(Precision.F32);
        int[] lengths = [5, 3, 7];
        for (int seed = 1; seed <= 2; seed++)  // eager, then recorded
        {
            var (t, l) = Batch(seed, lengths, 8);
            twins.GraphModel.Score(t, l, 3, 8);
            twins.EagerModel.Score(t, l, 3, 8);
        }
        var (tokens, _) = Batch(3, lengths, 8);
        DeviceCounters graphBefore = twins.GraphContext.DeviceCounters!;
        DeviceCounters eagerBefore = twins.EagerContext.DeviceCounters!;
        long replays = twins.GraphModel.ScoringReplays;
        twins.GraphModel.Score(tokens, lengths, 3, 8);
        twins.EagerModel.Score(tokens, lengths, 3, 8);
        DeviceCounters replay = twins.GraphContext.DeviceCounters!.Since(graphBefore);
        DeviceCounters eager = twins.EagerContext.DeviceCounters!.Since(eagerBefore);
        Assert.That(twins.GraphModel.ScoringReplays, Is.EqualTo(replays + 1), "the batch ran as a replay");
        Assert.That(replay.HostWaits, Is.EqualTo(1), "the rewards read-back only");
        Assert.That(replay.Launches, Is.EqualTo(eager.Launches));
        Assert.That(replay.Gemms, Is.EqualTo(eager.Gemms));
        Assert.That(replay.HostToDeviceCopies, Is.EqualTo(eager.HostToDeviceCopies), "the batch's uploads, before the replay");
        Assert.That(eager.Launches, Is.GreaterThan(10));
    }

    [Test]
    public void OnIsRefusedOnTheCpuBackend()
    {
        using var context = WorldPMContext.Create(Backend.Cpu, threads: 1);
        using var model = new RewardModel(context, Tiny, seed: 3);
        Assert.Throws<NotSupportedException>(() => model.CudaGraphs = CudaGraphs.On);
        Assert.That(model.CudaGraphs, Is.EqualTo(CudaGraphs.Auto));
        model.CudaGraphs = CudaGraphs.Off;
    }
}
