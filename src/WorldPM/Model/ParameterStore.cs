using System.Text;
using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// The parameters of a model, laid out back to back (each start aligned to <see cref="ParameterStore.Alignment"/>
/// elements) in three flat buffers, so that zeroing, norms, all-reduce and checkpoints can work on the whole at
/// once: the fp32 master values, the working weights in storage type T (the master buffer itself when T is
/// float) and the gradients in T. The gradients are allocated (and zeroed) on first use, so a model that only
/// scores never holds them.
/// </summary>
internal sealed class ParameterStore<T> : IDisposable where T : unmanaged
{
    private const float MatrixStd = 0.02f;

    private readonly WorldPMContext context;
    private readonly List<Parameter> parameters = [];
    private readonly Dictionary<string, Parameter> byName = [];
    private readonly Dictionary<string, long> offsetOf = [];
    private readonly List<DeviceBuffer> gradientViews = [];
    private readonly long size;
    private DeviceBuffer<T>? grads;

    /// <summary>Allocates the tensors of <paramref name="specs"/> in order and initializes them from
    /// <paramref name="seed"/> (the gradients wait for their first use).</summary>
    public ParameterStore(WorldPMContext context, IReadOnlyList<ParameterSpec> specs, int seed)
    {
        this.context = context;
        long[] offsets = new long[specs.Count];
        size = 0;
        for (int i = 0; i < specs.Count; i++)
        {
            offsets[i] = ParameterStore.AlignUp(size);
            size = offsets[i] + specs[i].Count;
        }
        Values = context.Allocate<float>(size);
        Working = SharesMaster ? (DeviceBuffer<T>)(DeviceBuffer)Values : context.Allocate<T>(size);
        Values.Fill(0);
        for (int i = 0; i < specs.Count; i++)
        {
            ParameterSpec spec = specs[i];
            long offset = offsets[i], count = spec.Count;
            DeviceBuffer<float> value = Values.View(offset, count);
            DeviceBuffer working = SharesMaster ? value : Working.View(offset, count);
            var parameter = new Parameter(spec.Name, spec.Shape, spec.Kind == ParameterKind.Matrix, value, working,
                () => GradientView(offset, count), offset);
            Initialize(parameter, spec.Kind, seed);
            parameters.Add(parameter);
            byName.Add(spec.Name, parameter);
            offsetOf.Add(spec.Name, offset);
        }
        SyncWorking();
    }

    /// <summary>True when T is float: the working weights are the master weights.</summary>
    public static bool SharesMaster => typeof(T) == typeof(float);

    /// <summary>All fp32 master values, back to back in declaration order (gaps between tensors hold zeros).</summary>
    public DeviceBuffer<float> Values { get; }

    /// <summary>All working weights in T, laid out like <see cref="Values"/>.</summary>
    public DeviceBuffer<T> Working { get; }

    /// <summary>All gradients in T, laid out like <see cref="Values"/>: allocated and zeroed by the first read.</summary>
    public DeviceBuffer<T> Grads
    {
        get
        {
            if (grads is null)
            {
                grads = context.Allocate<T>(size);
                grads.Fill(0);
            }
            return grads;
        }
    }

    /// <summary>Whether the gradients have been allocated.</summary>
    public bool HasGradients => grads is not null;

    private DeviceBuffer GradientView(long offset, long count)
    {
        DeviceBuffer view = Grads.View(offset, count);
        gradientViews.Add(view);
        return view;
    }

    /// <summary>The parameters in declaration order.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>Where the tensor named <paramref name="name"/> starts in the flat buffers (elements).</summary>
    public long OffsetOf(string name) => offsetOf[name];

    /// <summary>The parameter with this Hugging Face name, typed for the layers.</summary>
    public Weight<T> this[string name] => new(byName[name]);

    /// <summary>Rounds the master values into the working weights (one cast over the flat buffers; nothing in fp32).</summary>
    public void SyncWorking()
    {
        if (!SharesMaster) Ops.Cast(context, Values, Working);
    }

    /// <summary>
    /// Matrices get normal(0, 0.02) from a seed that depends only on the model seed and the tensor's name, so
    /// adding a tensor never changes the others; norm weights get ones and biases zeros (Hugging Face's Qwen2 init).
    /// </summary>
    private static void Initialize(Parameter parameter, ParameterKind kind, int seed)
    {
        switch (kind)
        {
            case ParameterKind.Matrix:
                parameter.Value.FillNormal(ParameterStore.TensorSeed(seed, parameter.Name), 0f, MatrixStd);
                break;
            case ParameterKind.NormWeight:
                parameter.Value.Fill(1);
                break;
            case ParameterKind.Bias:
                parameter.Value.Fill(0);
                break;
        }
    }

    public void Dispose()
    {
        foreach (Parameter p in parameters)
        {
            p.Value.Dispose();
            p.Working.Dispose();
        }
        foreach (DeviceBuffer view in gradientViews) view.Dispose();
        Values.Dispose();
        Working.Dispose();
        grads?.Dispose();
    }
}

/// <summary>What every <see cref="ParameterStore{T}"/> shares: the alignment and the per-tensor seeds.</summary>
internal static class ParameterStore
{
    /// <summary>Element alignment of every tensor start (256 bytes of fp32: vector loads and GPU kernels like it).</summary>
    public const long Alignment = 64;

    /// <summary>The offset rounded up to <see cref="Alignment"/>.</summary>
    public static long AlignUp(long offset) => (offset + Alignment - 1) / Alignment * Alignment;

    /// <summary>SplitMix64 of the model seed combined with the FNV-1a hash of the name.</summary>
    internal static ulong TensorSeed(int seed, string name)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(name)) hash = (hash ^ b) * 1099511628211UL;
        ulong z = hash + (ulong)(uint)seed * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
