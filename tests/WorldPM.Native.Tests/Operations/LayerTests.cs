using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Tests.Support.Reference;

namespace WorldPM.Native.Tests.Operations;

/// <summary>Embedding, RMSNorm, RoPE and attention against float64 references.</summary>
[TestFixture]
public sealed class LayerTests : OpFixture
{
    [Test]
    public void EmbeddingGathersTheRowsOfTheIds()
    {
        const int vocab = 7, c = 3;
        float[] table = Random(110, vocab * c);
        int[] ids = [4, 0, 6, 4];
        var output = Poisoned(ids.Length, c);

        Ops.EmbeddingForward(Context, Arena.Upload(ids), Arena.Upload(table), output, ids.Length, vocab, c);

        Assert.That(output.ToArray(), Is.EqualTo(ids.SelectMany(id => table.Skip(id * c).Take(c)).ToArray()));
    }

    [Test]
    public void EmbeddingBackwardAddsEachRowOfTheGradientIntoItsIdsRow()
    {
        const int vocab = 5, c = 2;
        int[] ids = [1, 3, 1];
        float[] dout = Random(111, ids.Length * c), initial = Random(112, vocab * c);
        var dtable = Arena.Upload(initial);

        Ops.EmbeddingBackward(Context, Arena.Upload(ids), Arena.Upload(dout), dtable, ids.Length, vocab, c);

        double[] expected = initial.Select(v => (double)v).ToArray();
        for (int n = 0; n < ids.Length; n++)
            for (int j = 0; j < c; j++) expected[ids[n] * c + j] += dout[n * c + j];
        Assert.That(RelativeError(dtable.ToArray(), expected), Is.LessThan(Fp32Elementwise));
    }

    [Test]
    public void RmsNormScalesEachRowByItsInverseRootMeanSquare()
    {
        const int n = 6, c = 33;
        const float eps = 1e-6f;
        float[] x = Random(113, n * c), weight = Random(114, c);
        var (output, rstd) = (Poisoned(n, c), Poisoned(n));

        Ops.RmsNormForward(Context, Arena.Upload(x), Arena.Upload(weight), output, rstd, n, c, eps);

        double[] r = Enumerable.Range(0, n)
            .Select(row => 1 / Math.Sqrt(x.Skip(row * c).Take(c).Average(v => (double)v * v) + eps)).ToArray();
        Assert.That(RelativeError(rstd.ToArray(), r), Is.LessThan(Fp32Elementwise));
        Assert.That(RelativeError(output.ToArray(), x.Select((v, i) => v * r[i / c] * weight[i % c]).ToArray()),
            Is.LessThan(Fp32Elementwise));
    }

    [Test]
    public void RopeRotatesEachPairOfTheRotateHalfLayout()
    {
        const int b = 1, t = 3, h = 2, d = 8;
        const float theta = 10000f;
        float[] x = Random(115, b * t * h * d);
        var buffer = Arena.Upload(x);

        Ops.RopeForward(Context, buffer, null, b, t, h, d, theta);

        var expected = new double[x.Length];
        for (int pos = 0; pos < t; pos++)
        for (int head = 0; head < h; head++)
        for (int i = 0; i < d / 2; i++)
        {
            int base_ = (pos * h + head) * d;
            double angle = pos * Math.Pow(theta, -2.0 * i / d);
            double x1 = x[base_ + i], x2 = x[base_ + i + d / 2];
            expected[base_ + i] = x1 * Math.Cos(angle) - x2 * Math.Sin(angle);
            expected[base_ + i + d / 2] = x2 * Math.Cos(angle) + x1 * Math.Sin(angle);
        }
        Assert.That(RelativeError(buffer.ToArray(), expected), Is.LessThan(Fp32Elementwise));
    }

    [Test]
    public void RopeBackwardUndoesTheForwardRotation()
    {
        float[] x = Random(116, 2 * 4 * 2 * 16);
        var buffer = Arena.Upload(x);
        int[] positions = Enumerable.Range(0, 8).Select(i => i * 3).ToArray();

        Ops.RopeForward(Context, buffer, Arena.Upload(positions), 2, 4, 2, 16);
        Ops.RopeBackward(Context, buffer, Arena.Upload(positions), 2, 4, 2, 16);

        Assert.That(RelativeError(buffer.ToArray(), x.Select(v => (double)v).ToArray()), Is.LessThan(Fp32Elementwise));
    }

    [Test]
    public void AttentionIsCausalSoftmaxAttentionOverEachSequencesValidTokensWithSharedKeyValueHeads()
    {
        var shape = new AttentionShape(Batch: 2, Tokens: 5, Heads: 4, KeyValueHeads: 2, HeadDim: 8);
        int B = 2, T = 5, H = 4, KVH = 2, D = 8;
        int[] lengths = [5, 3];
        float[] q = Random(117, B * T * H * D), k = Random(118, B * T * KVH * D), v = Random(119, B * T * KVH * D);
        var (output, lse) = (Poisoned(B, T, H, D), Poisoned(B, H, T));

        Ops.AttentionForward(Context, Arena.Upload(q), Arena.Upload(k), Arena.Upload(v), output, lse, shape,
            Arena.Upload(lengths));

        var expected = new double[B * T * H * D];
        double scale = 1 / Math.Sqrt(D);
        for (int b = 0; b < B; b++)
        for (int head = 0; head < H; head++)
        for (int i = 0; i < lengths[b]; i++)
        {
            int kvHead = head / (H / KVH);
            double[] scores = Enumerable.Range(0, i + 1).Select(j => scale * Enumerable.Range(0, D).Sum(e =>
                (double)q[((b * T + i) * H + head) * D + e] * k[((b * T + j) * KVH + kvHead) * D + e])).ToArray();
            double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
            for (int e = 0; e < D; e++)
                expected[((b * T + i) * H + head) * D + e] = Enumerable.Range(0, i + 1)
                    .Sum(j => Math.Exp(scores[j] - max) / sum * v[((b * T + j) * KVH + kvHead) * D + e]);
        }
        Assert.That(RelativeError(output.ToArray(), expected), Is.LessThan(Fp32Reduction));
    }

    [Test]
    public void PackedAttentionGivesEachSequenceWhatThePaddedLayoutGives()
    {
        int[] lengths = [3, 0, 6, 1];
        int[] padded = [3, 6, 1];
        int[] offsets = [0, 3, 3, 9, 10];
        const int H = 2, KVH = 1, D = 8, T = 6, N = 10, Bp = 3;
        float[] q = Random(120, N * H * D), k = Random(121, N * KVH * D), v = Random(122, N * KVH * D),
            dout = Random(123, N * H * D);
        var packedShape = new AttentionShape(Batch: lengths.Length, Tokens: N, Heads: H, KeyValueHeads: KVH, HeadDim: D);
        var paddedShape = new AttentionShape(Batch: Bp, Tokens: T, Heads: H, KeyValueHeads: KVH, HeadDim: D);
        var packing = new PackedSequences(Arena.Upload(offsets), MaxLength: 6);

        // Token j of the packed sequence i sits at row j of its padded slot (the empty sequence has none).
        int[] slotOfToken = Enumerable.Range(0, N).Select(n => Array.FindLastIndex(offsets, o => o <= n)).ToArray();
        int Row(int n)
        {
            int seq = slotOfToken[n];
            int slot = Enumerable.Range(0, seq).Count(i => lengths[i] > 0);
            return slot * T + (n - offsets[seq]);
        }
        float[] Pad(float[] x, int width)
        {
            var y = new float[Bp * T * width];
            for (int n = 0; n < N; n++) Array.Copy(x, n * width, y, Row(n) * width, width);
            return y;
        }
        double[] Unpad(float[] y, int width)
        {
            var x = new double[N * width];
            for (int n = 0; n < N; n++)
                for (int e = 0; e < width; e++) x[n * width + e] = y[Row(n) * width + e];
            return x;
        }

        var (pOut, pLse) = (Poisoned(N, H, D), Poisoned(H, N));
        var (pdq, pdk, pdv) = (Poisoned(N, H, D), Poisoned(N, KVH, D), Poisoned(N, KVH, D));
        var (pq, pk, pv) = (Arena.Upload(q), Arena.Upload(k), Arena.Upload(v));
        Ops.AttentionForward(Context, pq, pk, pv, pOut, pLse, packedShape, packing);
        Ops.AttentionBackward(Context, pq, pk, pv, pOut, pLse, Arena.Upload(dout), pdq, pdk, pdv, packedShape, packing);

        var (out_, lse) = (Poisoned(Bp, T, H, D), Poisoned(Bp, H, T));
        var (dq, dk, dv) = (Poisoned(Bp, T, H, D), Poisoned(Bp, T, KVH, D), Poisoned(Bp, T, KVH, D));
        var (uq, uk, uv) = (Arena.Upload(Pad(q, H * D)), Arena.Upload(Pad(k, KVH * D)), Arena.Upload(Pad(v, KVH * D)));
        var uLengths = Arena.Upload(padded);
        Ops.AttentionForward(Context, uq, uk, uv, out_, lse, paddedShape, uLengths);
        Ops.AttentionBackward(Context, uq, uk, uv, out_, lse, Arena.Upload(Pad(dout, H * D)), dq, dk, dv, paddedShape,
            uLengths);

        Assert.That(RelativeError(pOut.ToArray(), Unpad(out_.ToArray(), H * D)), Is.LessThan(Fp32Reduction));
        Assert.That(RelativeError(pdq.ToArray(), Unpad(dq.ToArray(), H * D)), Is.LessThan(Fp32Reduction));
        Assert.That(RelativeError(pdk.ToArray(), Unpad(dk.ToArray(), KVH * D)), Is.LessThan(Fp32Reduction));
        Assert.That(RelativeError(pdv.ToArray(), Unpad(dv.ToArray(), KVH * D)), Is.LessThan(Fp32Reduction));
        float[] paddedLse = lse.ToArray(), packedLse = pLse.ToArray();
        for (int head = 0; head < H; head++)
            for (int n = 0; n < N; n++)
            {
                int row = Row(n);
                Assert.That(packedLse[head * N + n],
                    Is.EqualTo(paddedLse[(row / T * H + head) * T + row % T]).Within(1e-5f), $"lse head {head} token {n}");
            }
    }
}
