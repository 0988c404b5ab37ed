using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Tests.Support.Reference;

namespace WorldPM.Native.Tests.Operations;

/// <summary>AdamW, the global gradient norm, loss-scale unscaling and casts against float64 references.</summary>
[TestFixture]
public sealed class OptimizerTests : OpFixture
{
    [Test]
    public void AnAdamWStepMatchesTheReferenceUpdateForEveryTensor()
    {
        var settings = new AdamWSettings(1e-2f) { WeightDecay = 0.1f, GradScale = 0.5f };
        const long step = 3;
        int[] counts = [17, 40];
        bool[] decay = [true, false];
        var tensors = new List<AdamWTensor>();
        var host = new List<(float[] p, float[] g, float[] m, float[] v)>();
        for (int t = 0; t < counts.Length; t++)
        {
            int n = counts[t];
            var state = (Random(90 + t, n), Random(92 + t, n), Random(94 + t, n, -0.1, 0.1), Random(96 + t, n, 0, 0.1));
            host.Add(state);
            tensors.Add(new AdamWTensor(Arena.Upload(state.Item1), Arena.Upload(state.Item2), Arena.Upload(state.Item3),
                Arena.Upload(state.Item4)) { Decay = decay[t] });
        }

        Ops.AdamWStep(Context, tensors, settings, step);

        for (int t = 0; t < counts.Length; t++)
        {
            var (p, g, m, v) = host[t];
            double[] expected = p.Select((p0, i) =>
            {
                double grad = g[i] * (double)settings.GradScale;
                double mi = settings.Beta1 * (double)m[i] + (1 - settings.Beta1) * grad;
                double vi = settings.Beta2 * (double)v[i] + (1 - settings.Beta2) * grad * grad;
                double mh = mi / (1 - Math.Pow(settings.Beta1, step)), vh = vi / (1 - Math.Pow(settings.Beta2, step));
                double wd = decay[t] ? settings.WeightDecay : 0;
                return p0 - settings.LearningRate * (mh / (Math.Sqrt(vh) + settings.Epsilon) + wd * p0);
            }).ToArray();
            Assert.That(RelativeError(tensors[t].Parameter.ToArray(), expected), Is.LessThan(Fp32Elementwise), $"tensor {t}");
        }
    }

    [Test]
    public void AnAdamWStepWritesTheWorkingCopyInItsDType()
    {
        float[] p = Random(98, 8), g = Random(99, 8);
        var working = Arena.Buffer<BFloat16>(8);
        var tensor = new AdamWTensor(Arena.Upload(p), Arena.Upload(g), Arena.F32(8), Arena.F32(8)) { Working = working };
        tensor.M.Fill(0);
        tensor.V.Fill(0);

        Ops.AdamWStep(Context, [tensor], new AdamWSettings(1e-3f), 1);

        Assert.That(working.ToArray().Select(w => w.Bits), Is.EqualTo(tensor.Parameter.ToArray().Select(v => ((BFloat16)v).Bits)));
    }

    [Test]
    public void TheGlobalNormIsTheL2NormOverAllTensorsOfAnyFloatDType()
    {
        float[] a = Random(100, 1000), b = Random(101, 333);
        var half = Arena.F16(b.Length);
        half.CopyFrom(b.Select(v => (Half)v).ToArray());
        var norm = Poisoned(1);

        Ops.GlobalNorm(Context, [Arena.Upload(a), half], norm);

        double expected = Math.Sqrt(a.Sum(v => (double)v * v) + half.ToArray().Sum(v => (double)v * (double)v));
        Assert.That(RelativeError(norm.ToArray(), [expected]), Is.LessThan(Fp32Reduction));
    }

    [Test]
    public void TheGlobalNormGivesTheSameBitsEveryTime()
    {
        var x = Arena.F32(100_000);
        x.FillNormal(seed: 102);
        var (first, second) = (Arena.F32(1), Arena.F32(1));

        Ops.GlobalNorm(Context, [x], first);
        Ops.GlobalNorm(Context, [x], second);

        Assert.That(BitConverter.SingleToUInt32Bits(second.ToArray()[0]), Is.EqualTo(BitConverter.SingleToUInt32Bits(first.ToArray()[0])));
    }

    [Test]
    public void ScaleCheckFiniteScalesInPlaceAndReportsNoOverflow()
    {
        float[] values = Random(103, 64);
        var x = Arena.Upload(values);
        var foundInf = Poisoned(1);

        Ops.ScaleCheckFinite(Context, [x], 0.25f, foundInf);

        Assert.That(x.ToArray(), Is.EqualTo(values.Select(v => v * 0.25f).ToArray()));
        Assert.That(foundInf.ToArray(), Is.EqualTo(new[] { 0f }));
    }

    [Test]
    public void ScaleCheckFiniteReportsAnInfiniteOrNaNElement()
    {
        var foundInf = Poisoned(1);
        Ops.ScaleCheckFinite(Context, [Arena.Upload(1f, 2f), Arena.Upload(3f, float.NaN)], 1f, foundInf);
        Assert.That(foundInf.ToArray(), Is.EqualTo(new[] { 1f }));
    }

    [Test]
    public void CastingToF16RoundsAsSystemHalfDoes()
    {
        float[] values = Random(104, 4096, -7e4, 7e4);
        var target = Arena.F16(values.Length);

        Ops.Cast(Context, Arena.Upload(values), target);

        Assert.That(target.ToArray(), Is.EqualTo(values.Select(v => (Half)v).ToArray()));
    }

    [Test]
    public void CastingBackToF32IsExact()
    {
        BFloat16[] values = Random(105, 512).Select(v => (BFloat16)v).ToArray();
        var source = Arena.Buffer<BFloat16>(values.Length);
        source.CopyFrom(values);
        var target = Poisoned(values.Length);

        Ops.Cast(Context, source, target);

        Assert.That(target.ToArray(), Is.EqualTo(values.Select(v => (float)v).ToArray()));
    }
}
