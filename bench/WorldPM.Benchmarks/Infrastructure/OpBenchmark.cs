using BenchmarkDotNet.Attributes;
using WorldPM.Native;

namespace WorldPM.Benchmarks.Infrastructure;

/// <summary>
/// What every op benchmark shares: the backend, shape and dtype parameters, one context per case, and the
/// buffers it owns. Inputs are seeded random fills (never zeros: some kernels skip work on zeros, and denormal-free
/// normal values keep the CPU's timing honest), allocated in the global setup and freed in the global cleanup, so
/// a measured invocation only runs the op and waits for it.
/// </summary>
[MemoryDiagnoser]
public abstract class OpBenchmark
{
    private readonly List<IDisposable> owned = [];
    private ulong nextSeed = 0x5EED;

    /// <summary>The backend the case runs on.</summary>
    [ParamsSource(nameof(Backends))]
    public BackendCase Backend { get; set; } = new(Native.Backend.Cpu);

    /// <summary>The problem size: the family's small shape, then a realistic one.</summary>
    [ParamsSource(nameof(Shapes))]
    public ShapeCase Shape { get; set; } = null!;

    /// <summary>The element type of the op's tensors.</summary>
    [ParamsSource(nameof(DTypes))]
    public DType DType { get; set; }

    /// <summary>cpu, then emu and cuda where this machine has them.</summary>
    public static IEnumerable<BackendCase> Backends => BackendCase.Available();

    /// <summary>The family's small shape first, then its realistic one.</summary>
    public abstract IEnumerable<ShapeCase> Shapes { get; }

    /// <summary>The dtypes the op supports; f32, f16 and bf16 unless the family says otherwise.</summary>
    public virtual IEnumerable<DType> DTypes => [DType.F32, DType.F16, DType.BF16];

    /// <summary>The context of the current case.</summary>
    protected WorldPMContext Context { get; private set; } = null!;

    /// <summary>Creates the context and the family's buffers for the dtype of the case.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        Context = WorldPMContext.Create(Backend.Backend);
        switch (DType)
        {
            case DType.F32: Setup<float>(); break;
            case DType.F16: Setup<Half>(); break;
            case DType.BF16: Setup<BFloat16>(); break;
            default: throw new NotSupportedException($"{DType} is not a floating-point dtype");
        }
        Context.Synchronize();
    }

    /// <summary>Frees the buffers, then the context.</summary>
    [GlobalCleanup]
    public void GlobalCleanup()
    {
        foreach (IDisposable buffer in owned) buffer.Dispose();
        owned.Clear();
        Context.Dispose();
    }

    /// <summary>Allocates the family's buffers with element type T and prepares its passes.</summary>
    protected abstract void Setup<T>() where T : unmanaged;

    /// <summary>A buffer of normal random values (mean 0, standard deviation 1), freed at cleanup.</summary>
    protected DeviceBuffer<T> Random<T>(params ReadOnlySpan<long> shape) where T : unmanaged
    {
        DeviceBuffer<T> buffer = Own(Context.Allocate<T>(shape));
        buffer.FillNormal(nextSeed++);
        return buffer;
    }

    /// <summary>count integers uniform in [low, high) from the running seed (token ids, lengths), freed at cleanup.</summary>
    protected DeviceBuffer<int> RandomIntegers(long count, int low, int high)
    {
        var random = new Random((int)nextSeed++);
        int[] values = new int[count];
        for (int i = 0; i < values.Length; i++) values[i] = random.Next(low, high);
        return Own(Context.Upload<int>(values));
    }

    private TBuffer Own<TBuffer>(TBuffer buffer) where TBuffer : IDisposable
    {
        owned.Add(buffer);
        return buffer;
    }
}
