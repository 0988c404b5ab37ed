using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Training;

/// <summary>
/// A short training run on the emu backend (the CUDA kernels run by the emulator behind the C ABI) against the
/// same run on the CPU backend, an independent implementation of every op: one forward/backward of the whole
/// model, then the loss curve of a few training steps, agree within tolerance. fp32 covers the CUDA-core attention (head dim 4), bf16 and fp16 a config whose
/// head dim 64 takes the tensor-core flash attention, with fp32 master weights and AdamW state on both backends.
/// </summary>
[BackendNeutral]  // names its backends itself: WORLDPM_BACKEND changes nothing for it
public class EmuTrainingTests
{
    private const int Steps = 4, MaxLength = 48;

    private static readonly TrainingOptions Optimizer = new()
    {
        PairsPerMicroBatch = 3, AccumulationSteps = 2, LearningRate = 1e-2, Seed = 5,
    };

    private static ModelConfig ConfigFor(Precision precision) => precision == Precision.F32
        ? Tiny with { VocabSize = ByteTokenizer.Instance.VocabSize, MaxPositionEmbeddings = MaxLength }
        : Tiny with
        {
            VocabSize = ByteTokenizer.Instance.VocabSize, MaxPositionEmbeddings = MaxLength,
            HiddenSize = 128, NumAttentionHeads = 2, NumKeyValueHeads = 1, IntermediateSize = 96, HeadHiddenSize = 16,
        };

    // Tolerances. fp32: the backends differ only in summation order inside the kernels (rmsnorm, attention, norms),
    // so rewards, loss and gradient agree to ~1e-6 relative (limit 1e-5). f16/bf16: both backends store the same
    // format, but a different fp32 sum before a rounding can flip the last bit, and flips compound through the
    // layers; the limits are PrecisionTests' storage bounds (fp16 1e-2 outputs / 3e-2 gradient, bf16 4e-2 / 1e-1).
    [TestCase(Precision.F32, 1e-5, 1e-5)]
    [TestCase(Precision.BF16, 4e-2, 1e-1)]
    [TestCase(Precision.F16, 1e-2, 3e-2)]
    public void RewardsLossAndGradientsOnTheEmulatorMatchTheCpuBackend(Precision precision, double outputTolerance,
        double gradientTolerance)
    {
        using WorldPMContext cpu = WorldPMContext.Create(Backend.Cpu, threads: 2);
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);
        Assert.That(emu.Backend, Is.EqualTo(Backend.Emu));
        using var onCpu = new RewardModel(cpu, ConfigFor(precision), seed: 3, precision);
        using var onEmu = new RewardModel(emu, ConfigFor(precision), seed: 3, precision);
        Randomize(onCpu, seed: 21);
        Randomize(onEmu, seed: 21);
        int[] lengths = [9, 3, 6, 1, 7, 9, 2, 5];
        int[] tokens = Tokens(new Random(8), ConfigFor(precision), lengths, seqLen: 9);
        float scale = precision == Precision.F16 ? 1024f : 1f;

        PairStepResult expected = onCpu.ForwardBackward(tokens, lengths, pairs: 4, seqLen: 9, lossScale: scale);
        PairStepResult actual = onEmu.ForwardBackward(tokens, lengths, pairs: 4, seqLen: 9, lossScale: scale);

        double rewardError = RelativeError(Rewards(actual), Rewards(expected));
        double lossError = Math.Abs(actual.Loss - expected.Loss) / expected.Loss;
        double[] g = [.. onEmu.Parameters.SelectMany(p => p.Grad.ToFloats().Select(v => (double)v))];
        double[] gRef = [.. onCpu.Parameters.SelectMany(p => p.Grad.ToFloats().Select(v => (double)v))];
        double gradientError = RelativeError(g, gRef);
        TestContext.Out.WriteLine($"{precision}: relative error rewards {rewardError:E2}, loss {lossError:E2}, gradient {gradientError:E2}");
        Assert.That(rewardError, Is.LessThan(outputTolerance));
        Assert.That(lossError, Is.LessThan(outputTolerance));
        Assert.That(gradientError, Is.LessThan(gradientTolerance));
        Assert.That(g, Has.All.Matches<double>(double.IsFinite));
    }

    // The loss curves of a short run. The weights themselves are not compared: AdamW divides each gradient by its
    // own running RMS, so a parameter whose gradient is ~0 moves by about +-lr on either backend depending on the
    // sign of rounding noise; the loss is what those weights compute. Limits: fp32 1e-5; bf16/fp16 2e-2 (measured
    // at step 4: bf16 7e-3, fp16 1.4e-3, the half-precision steps compounding).
    [TestCase(Precision.F32, 1e-5)]
    [TestCase(Precision.BF16, 2e-2)]
    [TestCase(Precision.F16, 2e-2)]
    public void ATrainingRunOnTheEmulatorTracksTheCpuLossCurve(Precision precision, double lossTolerance)
    {
        List<TokenizedPair> pairs = Pairs();
        using WorldPMContext cpu = WorldPMContext.Create(Backend.Cpu, threads: 2);
        using WorldPMContext emu = WorldPMContext.Create(Backend.Emu, threads: 2);

        Run onCpu = Train(cpu, pairs, precision), onEmu = Train(emu, pairs, precision);

        TestContext.Out.WriteLine($"{precision}: cpu losses {string.Join(" ", onCpu.Losses.Select(l => l.ToString("F6")))}");
        TestContext.Out.WriteLine($"{precision}: emu losses {string.Join(" ", onEmu.Losses.Select(l => l.ToString("F6")))}");
        Assert.That(onEmu.Losses, Is.EqualTo(onCpu.Losses).Within(lossTolerance));
        Assert.That(onEmu.Weights.All(float.IsFinite), "finite weights");
        Assert.That(onCpu.Losses.Distinct().Count(), Is.EqualTo(Steps), "the weights moved between steps");
    }

    private sealed record Run(double[] Losses, float[] Weights);

    private static Run Train(WorldPMContext context, List<TokenizedPair> pairs, Precision precision)
    {
        using var model = new RewardModel(context, ConfigFor(precision), seed: 2, precision);
        using var trainer = new Trainer(context, model, Optimizer, totalSteps: Steps);
        double[] losses = ShortRuns.Train(trainer, model.Config, pairs, Optimizer, Steps);
        return new Run(losses, model.ParameterValues.ToArray());
    }

    private static List<TokenizedPair> Pairs() => ShortRuns.ChatPairs(ScoringToken.EndOfText, MaxLength);
}
