using BenchmarkDotNet.Attributes;
using WorldPM.Benchmarks.Infrastructure;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>
/// The optimiser, which has no forward/backward pair: one fused multi-tensor AdamW step (f32 master weights and
/// moments, gradients of the dtype, and for f16/bf16 the working copy written in the same pass), and the
/// gradient clipping that precedes it (global L2 norm, then unscale-and-check). Realistic: 8 tensors of 2M
/// parameters, about the reference model's 16.8M.
/// </summary>
public class AdamWBenchmarks : OpBenchmark
{
    private Action step = null!;
    private Action clip = null!;

    /// <inheritdoc/>
    public override IEnumerable<ShapeCase> Shapes =>
        [ShapeCase.Small("tensors N", 1, 4096), ShapeCase.Realistic("tensors N", 8, 2 * 1024 * 1024)];

    /// <summary>One AdamW step over every tensor.</summary>
    [Benchmark]
    public void Step()
    {
        step();
        Context.Synchronize();
    }

    /// <summary>Global gradient norm, then scale-and-check-finite of every gradient (the clip before a step).</summary>
    [Benchmark]
    public void ClipGradients()
    {
        clip();
        Context.Synchronize();
    }

    /// <inheritdoc/>
    protected override void Setup<T>()
    {
        long tensors = Shape[0], n = Shape[1];
        var settings = new AdamWSettings(1e-4f) { WeightDecay = 0.01f };
        bool mixed = DType != DType.F32;
        var list = new List<AdamWTensor>();
        var gradients = new List<DeviceBuffer>();
        for (long i = 0; i < tensors; i++)
        {
            DeviceBuffer<T> gradient = Random<T>(n);
            gradients.Add(gradient);
            list.Add(new AdamWTensor(Random<float>(n), gradient, Random<float>(n), Positive(n))
            {
                Working = mixed ? Random<T>(n) : null,
            });
        }
        DeviceBuffer<float> norm = Random<float>(1), foundInf = Random<float>(1);
        long count = 0;
        // The step number only sets the bias correction; counting up keeps every step a real one.
        step = () => Ops.AdamWStep(Context, list, settings, ++count);
        clip = () =>
        {
            Ops.GlobalNorm(Context, gradients, norm);
            Ops.ScaleCheckFinite(Context, gradients, 1f, foundInf);
        };
    }

    /// <summary>A second moment: squares are never negative, so a uniform fill in (0, 1).</summary>
    private DeviceBuffer<float> Positive(long n)
    {
        DeviceBuffer<float> v = Random<float>(n);
        v.FillUniform(0xADA, 1e-6f, 1f);
        return v;
    }
}
