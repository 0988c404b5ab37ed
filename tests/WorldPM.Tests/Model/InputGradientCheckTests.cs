using WorldPM.Model;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>
/// <see cref="RewardModel.RewardInputGradients"/> against central finite differences of the reward through its own
/// <c>inputs</c> parameter, on the randomized tiny fp32 model: a few coordinates of layer 0's input (an early token, a
/// middle one and each row's scoring token; a few hidden dims) are moved by +-h and (r+ - r-) / 2h, taken in float64
/// from the two forwards' rewards, must match the returned gradient. Also: rows do not reach each other, and the
/// parameter gradients are left at zero.
/// </summary>
public class InputGradientCheckTests : TinyModelFixture
{
    protected override int? RandomizeSeed => 7;

    private const int SeqLen = 6;

    /// <summary>Two different sequences; row 1 is shorter so that its scoring token (position 3) is not row 0's
    /// (position 5) and row 1 has padding.</summary>
    private static readonly int[][] Sequences = [[3, 9, 1, 4, 10, 2], [7, 0, 5, 8]];

    /// <summary>Positions checked in each row: the first token, a middle one, the scoring (last valid) token.</summary>
    private static readonly int[][] Positions = [[0, 2, 5], [0, 1, 3]];

    /// <summary>Hidden dims checked at each position (of Tiny's 8).</summary>
    private static readonly int[] Dims = [0, 3, 7];

    /// <summary>
    /// The step, a balance of two errors measured on this model. The rewards are float32 (|r| ~ 1, one ulp ~ 6e-8) and
    /// each forward rounds at every op, so the difference of two forwards carries noise of some 1e-7 .. 1e-6, which /2h
    /// turns into up to ~3e-4 at h = 1e-3 (measured against the same differences of the float64 reference model: at most
    /// 3.4e-4). The truncation error h^2/6 |r'''| grows fast with h: the randomized weights (std 0.5) curve the reward so
    /// much that at row 0's first token, dim 0, the difference is off by 1.1e-3 at h = 3e-3, by 1.2e-2 at 1e-2 and has
    /// the wrong sign at 1e-1; at h = 1e-3 (truncation ~1e-4 there) the largest of the 18 differences below is 7.6e-4.
    /// </summary>
    private const float Step = 1e-3f;

    /// <summary>
    /// |fd - g| &lt;= Tolerance * max(1, |g|): over six times the largest difference measured above. Wrong gradients
    /// are far outside it: one taken after the RMSNorm instead of before it is off by the norm's Jacobian (a factor
    /// 1/rms ~ 2 and a projection), one of the mean of the rows by a factor 2, one of the other row's reward by
    /// everything; the checked gradients are 0.14 .. 3.6 in size, so each of those errors is 0.07 or more there.
    /// </summary>
    private const double Tolerance = 5e-3;

    private SequenceBatch batch = null!;
    private InputGradients at = null!;

    [SetUp]
    public void ComputeGradients()
    {
        batch = SequenceBatch.FromSequences(Tiny, Sequences);
        at = model.RewardInputGradients(batch);
    }

    [Test]
    public void TheGradientMatchesCentralDifferencesOfEachRowsReward()
    {
        int checkedCount = 0;
        for (int b = 0; b < Sequences.Length; b++)
            foreach (int t in Positions[b])
                foreach (int c in Dims)
                {
                    int i = Index(b, t, c);
                    double fd = CentralDifference(i, b);
                    double g = at.Gradients[i];
                    TestContext.Out.WriteLine($"row {b} pos {t} dim {c}: grad {g,12:F6}  fd {fd,12:F6}  diff {Math.Abs(fd - g):E1}");
                    Assert.That(Math.Abs(fd - g), Is.LessThanOrEqualTo(Tolerance * Math.Max(1, Math.Abs(g))),
                        $"row {b} position {t} dim {c}");
                    checkedCount++;
                }
        // Guards against a vacuous pass: a gradient of zeros everywhere would match a model whose reward ignores its
        // input, so the checked coordinates must carry real gradient, at the early tokens too (through attention).
        double[] early = [.. Dims.SelectMany(c => new[] { at.Gradients[Index(0, 0, c)], at.Gradients[Index(1, 0, c)] })];
        Assert.That(Norm(early), Is.GreaterThan(1e-2), "the first tokens reach the reward through attention");
        Assert.That(checkedCount, Is.EqualTo(18));
    }

    [Test]
    public void MovingOneRowsInputLeavesTheOtherRowsRewardUnchanged()
    {
        // The backward seeds d reward = 1 in every row, i.e. it takes the gradient of the sum of the rewards; that is
        // row b's own reward's gradient at row b's input exactly when no row's reward depends on another row's input.
        // Row 0's input moved at every position and dim: row 1's reward must be bitwise the same.
        float[] moved = (float[])at.Inputs.Clone();
        for (int t = 0; t < SeqLen; t++)
            for (int c = 0; c < Tiny.HiddenSize; c++)
                moved[Index(0, t, c)] += 0.3f;
        float[] rewards = model.RewardInputGradients(batch, moved).Rewards;
        Assert.That(rewards[0], Is.Not.EqualTo(at.Rewards[0]), "row 0's reward did move");
        Assert.That(rewards[1], Is.EqualTo(at.Rewards[1]), "row 1's reward did not");
    }

    [Test]
    public void TheRewardsAreTheScoresAndTheInputsTheEmbeddingRows()
    {
        Assert.That(at.Rewards, Is.EqualTo(model.Score(batch)));
        float[] table = model.Parameters.Single(p => p.Name == "model.embed_tokens.weight").Value.ToArray();
        for (int b = 0; b < Sequences.Length; b++)
            for (int t = 0; t < Sequences[b].Length; t++)
                for (int c = 0; c < Tiny.HiddenSize; c++)
                    Assert.That(at.Inputs[Index(b, t, c)], Is.EqualTo(table[Sequences[b][t] * Tiny.HiddenSize + c]));
    }

    [Test]
    public void EveryParameterGradientIsZeroAfterwards()
    {
        // The backward went through every parameter (it accumulates into their gradients); the call must clear them
        // so that a later training step does not pick them up.
        foreach (Parameter p in model.Parameters)
            Assert.That(p.Grad.ToFloats().All(g => g == 0), p.Name);
    }

    private static int Index(int b, int t, int c) => (b * SeqLen + t) * Tiny.HiddenSize + c;

    /// <summary>(r_b(x + h e_i) - r_b(x - h e_i)) / 2h in float64, the steps as actually rounded into float32.</summary>
    private double CentralDifference(int i, int b)
    {
        float[] inputs = (float[])at.Inputs.Clone();
        float x = inputs[i];
        float plus = x + Step, minus = x - Step;
        inputs[i] = plus;
        double up = model.RewardInputGradients(batch, inputs).Rewards[b];
        inputs[i] = minus;
        double down = model.RewardInputGradients(batch, inputs).Rewards[b];
        return (up - down) / ((double)plus - minus);
    }
}
