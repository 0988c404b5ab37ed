using WorldPM.Evaluation;
using WorldPM.Losses;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tests.Checkpoints;
using WorldPM.Tests.Training;
using WorldPM.Tokenization;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Losses;

/// <summary>The losses in training through the embedding API: each lowers itself on a short run, the kernel path
/// gives the native path's gradients, a run records its loss and refuses to resume with another.</summary>
public class LossTrainingTests
{
    /// <summary>Learnable pairs (the chosen side ends in a high token) with margins and uneven weights.</summary>
    private static List<TokenizedPair> Pairs(int count) =>
        [.. TrainingRunTests.Pairs(count).Select((p, i) => p with { Margin = 0.25f * (i % 3), Weight = 0.5f + i % 2 })];

    private static IPreferenceLoss Loss(string name) => name switch
    {
        "bt-smooth" => PreferenceLosses.SmoothedBradleyTerry(0.1),
        "squared-hinge" => new KernelLoss<SquaredHingeTerm>("squared-hinge", default) { UsesMargins = true },
        "bt-kernel" => PreferenceLosses.BradleyTerryKernel(),
        _ => PreferenceLosses.Create(name),
    };

    [TestCase("bt")]
    [TestCase("bt-margin")]
    [TestCase("bt-smooth")]
    [TestCase("hinge")]
    [TestCase("squared-hinge")]
    public void AShortRunLowersTheLoss(string name)
    {
        List<TokenizedPair> pairs = Pairs(16);
        var options = new TrainingOptions { PairsPerMicroBatch = 16, LearningRate = 1e-2, WarmupFraction = 0, Seed = 5, Loss = Loss(name) };
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2);
        using var trainer = new Trainer(context, model, options, totalSteps: 12);

        double[] losses = ShortRuns.Train(trainer, Tiny, pairs, options, steps: 12);

        Assert.That(losses, Is.All.Matches<double>(double.IsFinite));
        Assert.That(losses[^1], Is.LessThan(0.8 * losses[0]), string.Join(", ", losses));
        Assert.That(trainer.LossAccelerator.Started, Is.EqualTo(name != "bt"), "only a loss other than the native bt starts ILGPU");
    }

    [Test]
    public void TheKernelBradleyTerryGivesTheNativeGradientsScaledByTheLossScale()
    {
        var batch = new PairBatch(Tiny, Pairs(6));
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2);
        Randomize(model, seed: 3);
        using var accelerator = new LossAccelerator();

        model.ZeroGrad();
        PairStepResult native = model.ForwardBackward(batch, lossScale: 3f);
        float[] nativeGradients = model.ParameterGradients.ToFloats();
        model.ZeroGrad();
        PairStepResult kernel = model.ForwardBackward(batch, PreferenceLosses.BradleyTerryKernel(), accelerator, lossScale: 3f);
        float[] kernelGradients = model.ParameterGradients.ToFloats();

        Assert.That(kernel.Loss, Is.EqualTo(native.Loss).Within(1e-6));
        Assert.That(kernel.ChosenRewards, Is.EqualTo(native.ChosenRewards));
        double largest = nativeGradients.Max(g => Math.Abs((double)g));
        Assert.That(largest, Is.GreaterThan(0));
        Assert.That(kernelGradients, Is.EqualTo(nativeGradients).Within(1e-5 * largest));
    }

    [Test]
    public void ARunRecordsItsLossAndAResumeWithAnotherIsRefusedNamingTheOption()
    {
        List<TokenizedPair> pairs = Pairs(8);
        using var dir = new TempDirectory();
        TrainingRunOptions Options(IPreferenceLoss loss, string? marginFrom = "gap") => new()
        {
            Training = new TrainingOptions { PairsPerMicroBatch = 4, LearningRate = 1e-2, Seed = 5, Loss = loss },
            Steps = 2,
            OutputDirectory = dir.Path,
            MarginFrom = marginFrom,
        };
        using WorldPMContext context = Context();
        TrainingRunResult Run(TrainingRunOptions options)
        {
            using var model = new RewardModel(context, Tiny, seed: 2);
            return TrainingRun.Run(context, model, pairs, null, options);
        }
        Run(Options(PreferenceLosses.SmoothedBradleyTerry(0.1)));

        var loss = Assert.Throws<InvalidDataException>(() => Run(Options(PreferenceLosses.Hinge()) with { Resume = true, Steps = 3 }));
        Assert.That(loss!.Message, Does.Contain("--loss bt-smooth then, hinge now"));
        var smoothing = Assert.Throws<InvalidDataException>(() =>
            Run(Options(PreferenceLosses.SmoothedBradleyTerry(0.2)) with { Resume = true, Steps = 3 }));
        Assert.That(smoothing!.Message, Does.Contain("--label-smoothing (loss settings) label_smoothing=0.1 then, label_smoothing=0.2 now"));
        var margins = Assert.Throws<InvalidDataException>(() =>
            Run(Options(PreferenceLosses.SmoothedBradleyTerry(0.1), marginFrom: null) with { Resume = true, Steps = 3 }));
        Assert.That(margins!.Message, Does.Contain("--margin-from gap then, (none) now"));

        TrainingRunResult same = Run(Options(PreferenceLosses.SmoothedBradleyTerry(0.1)) with { Resume = true, Steps = 3 });
        Assert.That((same.ResumedFromStep, same.Steps), Is.EqualTo((2L, 3L)));
        TrainingRunResult anyway = Run(Options(PreferenceLosses.Hinge()) with { Resume = true, ResumeAnyway = true, Steps = 4 });
        Assert.That(anyway.ResumedFromStep, Is.EqualTo(3L));
    }

    [Test]
    public void TheDataFingerprintCoversMarginsAndIgnoresTheirAbsence()
    {
        List<TokenizedPair> plain = TrainingRunTests.Pairs(4), graded = Pairs(4);
        List<TokenizedPair> regraded = [.. graded.Select((p, i) => i == 2 ? p with { Margin = p.Margin + 1 } : p)];
        List<TokenizedPair> unweighted = [.. graded.Select((p, i) => p with { Margin = null, Weight = plain[i].Weight })];

        Assert.That(TrainingDataFingerprint.Of(regraded), Is.Not.EqualTo(TrainingDataFingerprint.Of(graded)));
        Assert.That(TrainingDataFingerprint.Of(unweighted), Is.EqualTo(TrainingDataFingerprint.Of(plain)));
    }

    [Test]
    public void EvaluationScoresPairsWhoseMarginsAreOnlyPartlyGiven()
    {
        List<TokenizedPair> pairs = [.. Pairs(5).Select((p, i) => i == 1 ? p with { Margin = null } : p)];
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2);
        Randomize(model, seed: 4);

        EvaluationReport report = Evaluator.Evaluate(model, pairs, loss: PreferenceLosses.Hinge());

        float[] rewards = model.Score(new PairBatch(Tiny, [.. pairs.Select(p => p with { Margin = null })]).Sequences);
        double expected = Enumerable.Range(0, 5).Average(i => Math.Max(0, 1 - ((double)rewards[i] - rewards[5 + i])));
        Assert.That(report.Overall.Loss, Is.EqualTo(expected).Within(1e-5), "hinge at its default margin when not every pair has one");
    }

    [Test]
    public void EvaluationReportsTheRunsLossInItsLossColumn()
    {
        List<TokenizedPair> pairs = [.. Pairs(6).Select((p, i) => p with { Subset = i < 2 ? "a" : "b" })];
        double[] deltas = [0.5, -1, 2, 0.1, -0.2, 3];
        using var accelerator = new LossAccelerator();

        EvaluationReport report = Evaluator.Report(pairs, deltas, PreferenceLosses.Hinge(), accelerator);

        double Hinge(IEnumerable<int> which) => which.Average(i => Math.Max(0, (double)pairs[i].Margin!.Value - deltas[i]));
        Assert.That(report.Overall.Loss, Is.EqualTo(Hinge(Enumerable.Range(0, 6))).Within(1e-6));
        Assert.That(report.BySubset["a"].Loss, Is.EqualTo(Hinge([0, 1])).Within(1e-6));
        Assert.That(report.BySubset["b"].Loss, Is.EqualTo(Hinge([2, 3, 4, 5])).Within(1e-6));
        Assert.That(Evaluator.Report(pairs, deltas).Overall.Loss,
            Is.EqualTo(deltas.Average(d => Math.Log(1 + Math.Exp(-d)))).Within(1e-12), "without a loss: Bradley-Terry");
    }
}
