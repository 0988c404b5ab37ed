namespace WorldPM.Native.Tests.Support;

/// <summary>Base of the op tests: a fresh <see cref="Arena"/> per test, and poisoned output buffers.</summary>
public abstract class OpFixture
{
    /// <summary>fp32 elementwise ops (docs/numerics.md, "Tolerances" says why each bound).</summary>
    protected const double Fp32Elementwise = 1e-5;

    /// <summary>fp32 reductions and GEMM chains.</summary>
    protected const double Fp32Reduction = 1e-4;

    /// <summary>fp16/bf16 storage.</summary>
    protected const double HalfStorage = 1e-2;

    protected Arena Arena { get; private set; } = null!;

    protected WorldPMContext Context => Arena.Context;

    [SetUp]
    public void CreateArena() => Arena = new Arena();

    [TearDown]
    public void DisposeArena() => Arena.Dispose();

    /// <summary>An f32 buffer full of NaN: an element the op forgets to write fails the comparison.</summary>
    protected DeviceBuffer<float> Poisoned(params long[] shape)
    {
        var buffer = Arena.F32(shape);
        buffer.Fill(double.NaN);
        return buffer;
    }
}
