using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Tests.Support.Reference;

namespace WorldPM.Native.Tests.Operations;

/// <summary>GEMM against a float64 triple loop: plain, transposed, scaled, accumulated and batched.</summary>
[TestFixture]
public sealed class GemmTests : OpFixture
{
    /// <summary>C = alpha op(A) op(B) + beta C0 for one batch item, all row-major and tight.</summary>
    private static double[] Reference(float[] a, float[] b, float[]? c0, int m, int n, int k, bool ta, bool tb,
        float alpha, float beta, int item = 0)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int p = 0; p < k; p++)
            {
                double av = ta ? a[item * m * k + p * m + i] : a[item * m * k + i * k + p];
                double bv = tb ? b[item * k * n + j * k + p] : b[item * k * n + p * n + j];
                sum += av * bv;
            }
            c[i * n + j] = alpha * sum + (c0 is null ? 0 : beta * c0[item * m * n + i * n + j]);
        }
        return c;
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void TheProductMatchesTheReference(bool transposeA, bool transposeB)
    {
        const int m = 37, n = 29, k = 53;
        float[] a = Random(80, m * k), b = Random(81, k * n);
        var c = Poisoned(m, n);

        Ops.Gemm(Context, Arena.Upload(a), Arena.Upload(b), c, m, n, k, transposeA, transposeB);

        Assert.That(RelativeError(c.ToArray(), Reference(a, b, null, m, n, k, transposeA, transposeB, 1, 0)),
            Is.LessThan(Fp32Reduction));
    }

    [Test]
    public void AlphaScalesTheProductAndBetaKeepsPartOfC()
    {
        const int m = 8, n = 12, k = 16;
        float[] a = Random(82, m * k), b = Random(83, k * n), c0 = Random(84, m * n);
        var c = Arena.Upload(c0);

        Ops.Gemm(Context, Arena.Upload(a), Arena.Upload(b), c, m, n, k, alpha: 0.5f, beta: 2f);

        Assert.That(RelativeError(c.ToArray(), Reference(a, b, c0, m, n, k, false, false, 0.5f, 2f)), Is.LessThan(Fp32Reduction));
    }

    [Test]
    public void EachBatchItemIsItsOwnProduct()
    {
        const int batch = 3, m = 5, n = 7, k = 9;
        float[] a = Random(85, batch * m * k), b = Random(86, batch * k * n);
        var c = Poisoned(batch, m, n);

        Ops.Gemm(Context, Arena.Upload(a), Arena.Upload(b), c,
            new GemmLayout(m, n, k) { Batch = batch, StrideA = m * k, StrideB = k * n, StrideC = m * n });

        double[] expected = Enumerable.Range(0, batch)
            .SelectMany(item => Reference(a, b, null, m, n, k, false, false, 1, 0, item)).ToArray();
        Assert.That(RelativeError(c.ToArray(), expected), Is.LessThan(Fp32Reduction));
    }

    [Test]
    public void BF16OperandsAccumulateInFp32WithinHalfPrecisionTolerance()
    {
        const int m = 16, n = 16, k = 64;
        BFloat16[] a = Random(87, m * k).Select(v => (BFloat16)v).ToArray(), b = Random(88, k * n).Select(v => (BFloat16)v).ToArray();
        var (da, db, dc) = (Arena.Buffer<BFloat16>(m * k), Arena.Buffer<BFloat16>(k * n), Arena.Buffer<BFloat16>(m * n));
        da.CopyFrom(a);
        db.CopyFrom(b);

        Ops.Gemm(Context, da, db, dc, m, n, k);

        double[] expected = Reference(a.Select(v => (float)v).ToArray(), b.Select(v => (float)v).ToArray(), null, m, n, k,
            false, false, 1, 0);
        Assert.That(RelativeError(dc.ToArray().Select(v => (float)v).ToArray(), expected), Is.LessThan(HalfStorage));
    }
}
