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

    /// <summary>With a token budget each micro-batch is the longest run of pairs in the data order whose tokens fit it
    /// (computed here by hand), so a step holds those tokens and never more than accumulation x budget.</summary>
    [Test]
    public void ATokenBudgetCutsEachMicroBatchToTheRunOfPairsThatFits()
    {
        List<TokenizedPair> pairs = Pairs(23);
        const int budget = 30, accumulation = 2, steps = 4;
        var options = new TrainingRunOptions
        {
            Training = new TrainingOptions { MaxTokensPerMicroBatch = budget, AccumulationSteps = accumulation, LearningRate = 1e-2, Seed = 5 },
            Steps = steps,
        };
        var tokens = new List<long>();
        using (WorldPMContext context = Context())
        using (var model = new RewardModel(context, Tiny, seed: 2))
            TrainingRun.Run(context, model, pairs, null, options, onStep: m => tokens.Add(m.Tokens));

        var order = new DataOrder(5, pairs.Count);
        long position = 0;
        var expected = new List<long>();
        for (int step = 0; step < steps; step++)
        {
            long stepTokens = 0;
            for (int m = 0; m < accumulation; m++)
            {
                long used = 0;
                while (true)
                {
                    TokenizedPair next = pairs[order[position]];
                    int size = next.Chosen.Length + next.Rejected.Length;
                    if (used + size > budget) break;
                    used += size;
                    position++;
                }
                stepTokens += used;
            }
            expected.Add(stepTokens);
        }
        Assert.That(tokens, Is.EqualTo(expected));
        Assert.That(tokens, Is.All.LessThanOrEqualTo(accumulation * budget));
    }

    [Test]
    public void APairLongerThanTheTokenBudgetIsAnErrorNamingIt()
    {
        var options = new TrainingRunOptions { Training = new TrainingOptions { MaxTokensPerMicroBatch = 3 }, Steps = 1 };
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2);
        var e = Assert.Throws<ArgumentException>(() => TrainingRun.Run(context, model, Pairs(5), null, options));
        Assert.That(e!.Message, Does.Contain("training pair").And.Contain("more than the 3").And.Contain("max tokens per batch"));
        var bad = Assert.Throws<ArgumentException>(() => new TrainingOptions { MaxTokensPerMicroBatch = 0 }.Validate());
        Assert.That(bad!.ParamName, Is.EqualTo(nameof(TrainingOptions.MaxTokensPerMicroBatch)));
    }

    /// <summary>Packed training (the default) follows the padded run's loss curve up to fp32 rounding.</summary>
    [Test]
    public void PackedAndPaddedRunsFollowTheSameLossCurve()
    {
        List<TokenizedPair> pairs = Pairs(23);
        List<double> Run(SequenceLayout layout)
        {
            var options = new TrainingRunOptions
            {
                Training = new TrainingOptions { PairsPerMicroBatch = 4, LearningRate = 1e-2, Seed = 5, Layout = layout },
                Steps = 5,
            };
            var losses = new List<double>();
            using WorldPMContext context = Context();
            using var model = new RewardModel(context, Tiny, seed: 2);
            TrainingRun.Run(context, model, pairs, null, options, onStep: m => losses.Add(m.Loss));
            return losses;
        }
        List<double> padded = Run(SequenceLayout.Padded), packed = Run(SequenceLayout.Packed);
        Assert.That(packed, Is.EqualTo(padded).Within(1e-4).Percent);
        Assert.That(packed.Distinct().Count(), Is.GreaterThan(1), "the runs train");
    }
}
