using WorldPM.Tokenization;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tests.Checkpoints;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Training;

public class TrainingRunTests
{
    private sealed class Interrupted : Exception;

    // Pairs whose chosen side ends in a high token and rejected in a low one: learnable, deterministic.
    internal static List<TokenizedPair> Pairs(int count)
    {
        var random = new Random(3);
        return Enumerable.Range(0, count).Select(_ =>
        {
            int[] prefix = Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.Next(11)).ToArray();
            return new TokenizedPair([.. prefix, 9 + random.Next(2)], [.. prefix, random.Next(3)]);
        }).ToList();
    }

    private static TrainingRunOptions Options(string dir) => new()
    {
        Training = new TrainingOptions { PairsPerMicroBatch = 4, AccumulationSteps = 2, LearningRate = 1e-2, Seed = 5 },
        Steps = 10,
        OutputDirectory = dir,
        CheckpointEvery = 3,
    };

    private static List<double> Train(string dir, List<TokenizedPair> pairs, TrainingRunOptions options, int? stopAfter = null)
    {
        var losses = new List<double>();
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2);
        try
        {
            TrainingRun.Run(context, model, pairs, null, options, onStep: m =>
            {
                losses.Add(m.Loss);
                if (m.Step == stopAfter) throw new Interrupted();
            });
        }
        catch (Interrupted)
        {
        }
        return losses;
    }

    [Test]
    public void ResumedRunContinuesTheUninterruptedLossCurveBitwise()
    {
        List<TokenizedPair> pairs = Pairs(23);
        using var full = new TempDirectory();
        List<double> expected = Train(full.Path, pairs, Options(full.Path));

        using var broken = new TempDirectory();
        List<double> before = Train(broken.Path, pairs, Options(broken.Path), stopAfter: 7);  // last checkpoint: step 6
        // A checkpoint write killed half way leaves a .tmp directory with garbage in it.
        Directory.CreateDirectory(Path.Combine(broken.Path, "step-9.tmp"));
        File.WriteAllText(Path.Combine(broken.Path, "step-9.tmp", "model.safetensors"), "truncated");
        List<double> after = Train(broken.Path, pairs, Options(broken.Path) with { Resume = true });

        Assert.That(expected, Has.Count.EqualTo(10));
        Assert.That(before, Is.EqualTo(expected.Take(7)));
        Assert.That(after, Is.EqualTo(expected.Skip(6)), "steps 7..10 after resuming from step 6");
        Assert.That(expected[^1], Is.LessThan(expected[0]));
    }

    [Test]
    public void ResumingWithAnotherSeedIsRefused()
    {
        List<TokenizedPair> pairs = Pairs(10);
        using var dir = new TempDirectory();
        Train(dir.Path, pairs, Options(dir.Path) with { Steps = 3 });
        TrainingRunOptions other = Options(dir.Path) with { Resume = true, Training = Options(dir.Path).Training with { Seed = 6 } };
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2);
        var e = Assert.Throws<InvalidDataException>(() => TrainingRun.Run(context, model, pairs, null, other));
        Assert.That(e!.Message, Does.Contain("seed 5"));
    }

    [Test]
    public void DataOrderIsAPermutationPerEpochAndDeterministic()
    {
        var order = new DataOrder(seed: 1, count: 7);
        int[] first = Enumerable.Range(0, 7).Select(i => order[i]).ToArray();
        int[] second = Enumerable.Range(7, 7).Select(i => order[i]).ToArray();
        Assert.That(first.Order(), Is.EqualTo(Enumerable.Range(0, 7)));
        Assert.That(second.Order(), Is.EqualTo(Enumerable.Range(0, 7)));
        Assert.That(second, Is.Not.EqualTo(first));
        var again = new DataOrder(seed: 1, count: 7);
        Assert.That(Enumerable.Range(0, 14).Select(i => again[13 - i]).Reverse(), Is.EqualTo(first.Concat(second)));
    }
}
