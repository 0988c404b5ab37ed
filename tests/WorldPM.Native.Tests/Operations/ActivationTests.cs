using WorldPM.Native.Tests.Support;
using static WorldPM.Native.Tests.Support.Reference;

namespace WorldPM.Native.Tests.Operations;

/// <summary>GELU (both forms), ReLU and SwiGLU against float64 references, forward and backward.</summary>
[TestFixture]
public sealed class ActivationTests : OpFixture
{
    [TestCase(GeluKind.Tanh)]
    [TestCase(GeluKind.Exact)]
    public void GeluForwardMatchesTheFloat64Formula(GeluKind kind)
    {
        float[] x = Random(10 + (int)kind, 1000, -6, 6);
        var output = Poisoned(x.Length);

        Ops.GeluForward(Context, Arena.Upload(x), output, kind);

        Func<double, double> gelu = kind == GeluKind.Tanh ? GeluTanh : GeluExact;
        Assert.That(RelativeError(output.ToArray(), x.Select(v => gelu(v)).ToArray()), Is.LessThan(Fp32Elementwise));
    }

    [TestCase(GeluKind.Tanh)]
    [TestCase(GeluKind.Exact)]
    public void GeluBackwardMatchesTheFloat64Derivative(GeluKind kind)
    {
        float[] x = Random(20 + (int)kind, 1000, -6, 6), dout = Random(30 + (int)kind, 1000);
        var dx = Poisoned(x.Length);

        Ops.GeluBackward(Context, Arena.Upload(dout), Arena.Upload(x), dx, kind);

        Func<double, double> grad = kind == GeluKind.Tanh ? GeluTanhGrad : GeluExactGrad;
        Assert.That(RelativeError(dx.ToArray(), x.Select((v, i) => dout[i] * grad(v)).ToArray()), Is.LessThan(Fp32Elementwise));
    }

    [Test]
    public void ReluForwardAndBackwardZeroTheNegativeSide()
    {
        float[] x = Random(50, 1000, -3, 3), dout = Random(51, 1000);
        var output = Poisoned(x.Length);
        var dx = Poisoned(x.Length);
        var input = Arena.Upload(x);

        Ops.ReluForward(Context, input, output);
        Ops.ReluBackward(Context, Arena.Upload(dout), input, dx);

        Assert.That(output.ToArray(), Is.EqualTo(x.Select(v => Math.Max(v, 0f)).ToArray()));
        Assert.That(dx.ToArray(), Is.EqualTo(x.Select((v, i) => v > 0 ? dout[i] : 0f).ToArray()));
    }

    [Test]
    public void GeluOnBF16StorageIsWithinHalfPrecisionTolerance()
    {
        float[] x = Random(40, 1000, -4, 4);
        var input = Arena.Buffer<BFloat16>(x.Length);
        input.CopyFrom(x.Select(v => (BFloat16)v).ToArray());
        var output = Arena.Buffer<BFloat16>(x.Length);

        Ops.GeluForward(Context, input, output, GeluKind.Tanh);

        double[] expected = input.ToArray().Select(v => GeluTanh(v)).ToArray();
        Assert.That(RelativeError(output.ToArray().Select(v => (float)v).ToArray(), expected), Is.LessThan(HalfStorage));
    }

    [Test]
    public void GeluOnF16StorageIsWithinHalfPrecisionTolerance()
    {
        float[] x = Random(41, 1000, -4, 4);
        var input = Arena.F16(x.Length);
        input.CopyFrom(x.Select(v => (Half)v).ToArray());
        var output = Arena.F16(x.Length);

        Ops.GeluForward(Context, input, output, GeluKind.Exact);

        double[] expected = input.ToArray().Select(v => GeluExact((double)v)).ToArray();
        Assert.That(RelativeError(output.ToArray().Select(v => (float)v).ToArray(), expected), Is.LessThan(HalfStorage));
    }

    [Test]
    public void SwiGluForwardIsSiluOfGateTimesUp()
    {
        float[] gate = Random(50, 777, -8, 8), up = Random(51, 777);
        var output = Poisoned(gate.Length);

        Ops.SwiGluForward(Context, Arena.Upload(gate), Arena.Upload(up), output);

        Assert.That(RelativeError(output.ToArray(), gate.Select((g, i) => Silu(g) * up[i]).ToArray()), Is.LessThan(Fp32Elementwise));
    }

    [Test]
    public void SwiGluBackwardGivesBothGradients()
    {
        float[] gate = Random(52, 777, -8, 8), up = Random(53, 777), dout = Random(54, 777);
        var (dgate, dup) = (Poisoned(gate.Length), Poisoned(gate.Length));

        Ops.SwiGluBackward(Context, Arena.Upload(dout), Arena.Upload(gate), Arena.Upload(up), dgate, dup);

        double[] expectedDup = gate.Select((g, i) => dout[i] * Silu(g)).ToArray();
        double[] expectedDgate = gate.Select((g, i) =>
        {
            double s = Sigmoid(g);
            return dout[i] * up[i] * s * (1 + g * (1 - s));
        }).ToArray();
        Assert.That(RelativeError(dup.ToArray(), expectedDup), Is.LessThan(Fp32Elementwise));
        Assert.That(RelativeError(dgate.ToArray(), expectedDgate), Is.LessThan(Fp32Elementwise));
    }

    [Test]
    public void TheErfReferenceMatchesKnownValues()
    {
        Assert.That(Erf(0.5), Is.EqualTo(0.5204998778130465).Within(1e-15));
        Assert.That(Erf(1), Is.EqualTo(0.8427007929497149).Within(1e-15));
        Assert.That(Erf(-3), Is.EqualTo(-0.9999779095030014).Within(1e-15));
    }
}
