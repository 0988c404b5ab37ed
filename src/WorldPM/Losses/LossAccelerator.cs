using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace WorldPM.Losses;

/// <summary>
/// The ILGPU context and accelerator the loss kernels run on: ILGPU's CUDA accelerator when it finds a GPU, else its
/// CPU accelerator. Both are made on first use (a run with the native Bradley-Terry never pays for them), each kernel
/// is compiled once per accelerator, and <see cref="Dispose"/> releases them; the trainer owns one.
/// </summary>
public sealed class LossAccelerator : IDisposable
{
    private readonly Lock gate = new();
    private readonly Dictionary<Type, Delegate> kernels = [];
    private Context? context;
    private Accelerator? accelerator;
    private bool disposed;

    /// <summary>The accelerator, made now if it was not yet.</summary>
    public Accelerator Accelerator
    {
        get
        {
            lock (gate)
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                if (accelerator is null)
                {
                    context = CreateContext();
                    accelerator = Pick(context);
                }
                return accelerator;
            }
        }
    }

    /// <summary>Whether the accelerator has been made (a run that never needed it has not).</summary>
    public bool Started
    {
        get
        {
            lock (gate) return accelerator is not null;
        }
    }

    /// <summary>The devices ILGPU finds on this machine, one line each ("Cuda: NVIDIA H100 ...", "CPU: ..."), the
    /// one the losses would run on first.</summary>
    public static IReadOnlyList<string> DescribeDevices()
    {
        using Context probe = CreateContext();
        return [.. probe.Devices
            .OrderBy(d => d.AcceleratorType == AcceleratorType.Cuda ? 0 : 1)
            .Select(d => $"{d.AcceleratorType}: {d.Name}")];
    }

    /// <summary>Runs <see cref="PairLossKernel"/> for <paramref name="term"/> over <paramref name="packed"/> (its first
    /// <see cref="PairLossKernel.InputSlots"/> x <paramref name="pairs"/> floats filled) and returns the outputs:
    /// P weighted losses, then P weighted slopes.</summary>
    internal float[] Run<TTerm>(TTerm term, float[] packed, int pairs) where TTerm : unmanaged, IPairLossTerm
    {
        Accelerator device = Accelerator;
        Action<Index1D, TTerm, ArrayView<float>, int> kernel;
        lock (gate)
        {
            if (!kernels.TryGetValue(typeof(TTerm), out Delegate? loaded))
                kernels[typeof(TTerm)] = loaded =
                    device.LoadAutoGroupedStreamKernel<Index1D, TTerm, ArrayView<float>, int>(PairLossKernel.Run);
            kernel = (Action<Index1D, TTerm, ArrayView<float>, int>)loaded;
        }
        using MemoryBuffer1D<float, Stride1D.Dense> buffer = device.Allocate1D(packed);
        kernel(pairs, term, buffer.View, pairs);
        device.Synchronize();
        var outputs = new float[2 * pairs];
        buffer.View.SubView(PairLossKernel.InputSlots * pairs, 2 * pairs).CopyToCPU(outputs);
        return outputs;
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            kernels.Clear();
            accelerator?.Dispose();
            context?.Dispose();
        }
    }

    // The CPU device is one small warp: a loss launch covers a few hundred pairs, where more emulated threads only
    // add scheduling. OpenCL is left out: the CUDA accelerator covers the GPUs the native library runs on.
    private static Context CreateContext() => Context.Create(builder => builder.CPU(new CPUDevice(4, 1, 1)).Cuda());

    private static Accelerator Pick(Context context) =>
        context.GetCudaDevices().Count > 0
            ? context.GetCudaDevice(0).CreateAccelerator(context)
            : context.GetCPUDevice(0).CreateCPUAccelerator(context, CPUAcceleratorMode.Sequential);
}
