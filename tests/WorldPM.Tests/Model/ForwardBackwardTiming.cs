using System.Diagnostics;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Tests.Model;

/// <summary>
/// A measurement, not a specification (run it by name): ForwardBackward time of a small model on the CPU backend,
/// d 128, 2 layers, 4 heads over 2 kv heads, MLP 512, head 256, vocab 1000, 8 pairs of 64 tokens.
/// </summary>
[Explicit("measurement")]
public class ForwardBackwardTiming
{
    [Test]
    public void SmallModelStep()
    {
        var config = new ModelConfig
        {
            VocabSize = 1000, HiddenSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            IntermediateSize = 512,
        };
        const int pairs = 8, seqLen = 64;
        using WorldPMContext context = WorldPMContext.Create(Backend.Cpu);
        using var model = new RewardModel(context, config, seed: 1);
        var random = new Random(1);
        int[] lengths = [.. Enumerable.Range(0, 2 * pairs).Select(_ => random.Next(16, seqLen + 1))];
        int[] tokens = [.. Enumerable.Range(0, 2 * pairs * seqLen).Select(_ => random.Next(config.VocabSize))];

        for (int i = 0; i < 3; i++) model.ForwardBackward(tokens, lengths, pairs, seqLen);
        var times = new List<double>();
        for (int i = 0; i < 20; i++)
        {
            var watch = Stopwatch.StartNew();
            model.ForwardBackward(tokens, lengths, pairs, seqLen);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        var scoreWatch = Stopwatch.StartNew();
        for (int i = 0; i < 20; i++) model.Score(tokens, lengths, 2 * pairs, seqLen);
        TestContext.Out.WriteLine(
            $"ForwardBackward: median {times.Order().ElementAt(10):F2} ms, best {times.Min():F2} ms "
            + $"({context.NumThreads} threads); Score: {scoreWatch.Elapsed.TotalMilliseconds / 20:F2} ms");
    }
}
