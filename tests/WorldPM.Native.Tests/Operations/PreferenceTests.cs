using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Tests.Support.Reference;

namespace WorldPM.Native.Tests.Operations;

/// <summary>Last-token pooling and the Bradley-Terry loss against float64 references.</summary>
[TestFixture]
public sealed class PreferenceTests : OpFixture
{
    private const int B = 4, T = 6, C = 5;

    /// <summary>hidden[b, t, c] as a flat array, from fresh random values.</summary>
    private static float[] Hidden(int seed) => Random(seed, B * T * C);

    [TestCase(Padding.Right)]
    [TestCase(Padding.Left)]
    public void PoolingPicksTheHiddenStateOfEachSequencesLastValidToken(Padding padding)
    {
        float[] hidden = Hidden(60);
        int[] lengths = [6, 1, 3, 4];
        var output = Poisoned(B, C);

        Ops.LastTokenPoolForward(Context, Arena.Upload(hidden), Arena.Upload(lengths), output, B, T, C, padding);

        var expected = new double[B * C];
        for (int b = 0; b < B; b++)
        {
            int s = padding == Padding.Right ? lengths[b] - 1 : T - 1;
            for (int c = 0; c < C; c++) expected[b * C + c] = hidden[(b * T + s) * C + c];
        }
        Assert.That(RelativeError(output.ToArray(), expected), Is.Zero);
    }

    [TestCase(Padding.Right)]
    [TestCase(Padding.Left)]
    public void PoolingBackwardPutsTheGradientAtTheScoringRowsAndZeroElsewhere(Padding padding)
    {
        float[] dout = Random(61, B * C);
        int[] lengths = [2, 6, 5, 1];
        var dhidden = Poisoned(B, T, C);

        Ops.LastTokenPoolBackward(Context, Arena.Upload(dout), Arena.Upload(lengths), dhidden, B, T, C, padding);

        var expected = new double[B * T * C];
        for (int b = 0; b < B; b++)
        {
            int s = padding == Padding.Right ? lengths[b] - 1 : T - 1;
            for (int c = 0; c < C; c++) expected[(b * T + s) * C + c] = dout[b * C + c];
        }
        Assert.That(dhidden.ToArray(), Is.EqualTo(expected.Select(v => (float)v).ToArray()));
    }

    [Test]
    public void PoolingRejectsALengthOutsideOneToT()
    {
        // By the op on cpu, by the next synchronising call on a device backend (the device error word).
        var e = Assert.Throws<WorldPMArgumentException>(() =>
        {
            Ops.LastTokenPoolForward(Context, Arena.Upload(Hidden(62)), Arena.Upload(3, 7, 1, 1), Arena.F32(B, C), B, T, C);
            Context.Synchronize();
        })!;
        Assert.That(e.Message, Does.Contain("lengths[1]").And.Contain("7"));
        Assert.That(e.ArgumentName, Is.EqualTo("lengths"));
    }

    private static double BtLoss(float[] chosen, float[] rejected, float margin, float[]? weights)
    {
        double sum = 0, wsum = 0;
        for (int i = 0; i < chosen.Length; i++)
        {
            double w = weights?[i] ?? 1;
            sum += w * Softplus(-((double)chosen[i] - rejected[i] - margin));
            wsum += w;
        }
        return sum / wsum;
    }

    [TestCase(0f, false)]
    [TestCase(0.5f, false)]
    [TestCase(0.25f, true)]
    public void TheLossIsTheWeightedMeanOfMinusLogSigmoidOfTheRewardGap(float margin, bool weighted)
    {
        float[] chosen = Random(70, 33, -5, 5), rejected = Random(71, 33, -5, 5);
        float[]? weights = weighted ? Random(72, 33, 0, 2) : null;
        var loss = Poisoned(1);

        Ops.BradleyTerryLossForward(Context, Arena.Upload(chosen), Arena.Upload(rejected), loss, margin,
            weights is null ? null : Arena.Upload(weights));

        Assert.That(RelativeError(loss.ToArray(), [BtLoss(chosen, rejected, margin, weights)]), Is.LessThan(Fp32Reduction));
    }

    [Test]
    public void TheLossStaysFiniteForHugeRewardGaps()
    {
        var loss = Poisoned(1);
        Ops.BradleyTerryLossForward(Context, Arena.Upload(-1e4f, 1e4f), Arena.Upload(1e4f, -1e4f), loss);
        Assert.That(loss.ToArray()[0], Is.EqualTo(1e4f).Within(1e-2));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TheGradientIsSigmoidMinusOneScaledByWeightAndDloss(bool weighted)
    {
        float[] chosen = Random(73, 17, -4, 4), rejected = Random(74, 17, -4, 4);
        float[]? weights = weighted ? Random(75, 17, 0, 2) : null;
        const float margin = 0.3f, dloss = 2.5f;
        var (dchosen, drejected) = (Poisoned(17), Poisoned(17));

        Ops.BradleyTerryLossBackward(Context, Arena.Upload(chosen), Arena.Upload(rejected), dchosen, drejected, dloss,
            margin, weights is null ? null : Arena.Upload(weights));

        double wsum = weights?.Sum(w => (double)w) ?? chosen.Length;
        double[] expected = chosen.Select((c, i) =>
            dloss * (weights?[i] ?? 1) * (Sigmoid((double)c - rejected[i] - margin) - 1) / wsum).ToArray();
        Assert.That(RelativeError(dchosen.ToArray(), expected), Is.LessThan(Fp32Elementwise));
        Assert.That(RelativeError(drejected.ToArray(), expected.Select(v => -v).ToArray()), Is.LessThan(Fp32Elementwise));
    }

    [Test]
    public void TheGradientMatchesCentralFiniteDifferencesOfTheLoss()
    {
        float[] chosen = Random(76, 5, -2, 2), rejected = Random(77, 5, -2, 2);
        var (dchosen, drejected) = (Poisoned(5), Poisoned(5));

        Ops.BradleyTerryLossBackward(Context, Arena.Upload(chosen), Arena.Upload(rejected), dchosen, drejected);

        const double h = 1e-3;
        double[] numeric = chosen.Select((_, i) =>
        {
            float[] plus = (float[])chosen.Clone(), minus = (float[])chosen.Clone();
            plus[i] += (float)h;
            minus[i] -= (float)h;
            return (BtLoss(plus, rejected, 0, null) - BtLoss(minus, rejected, 0, null)) / (plus[i] - minus[i]);
        }).ToArray();
        Assert.That(RelativeError(dchosen.ToArray(), numeric), Is.LessThan(1e-4));
    }
}
