using System.Text;
using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// The parameters of a model, laid out back to back (each start aligned to <see cref="Alignment"/> elements) in
/// one value buffer and one gradient buffer, so that zeroing, norms, all-reduce and checkpoints can work on the
/// whole at once.
/// </summary>
internal sealed class ParameterStore : IDisposable
{
    /// <summary>Element alignment of every tensor start (256 bytes of fp32: vector loads and GPU kernels like it).</summary>
    public const long Alignment = 64;

    private const float MatrixStd = 0.02f;

    private readonly List<Parameter> parameters = [];
    private readonly Dictionary<string, Parameter> byName = [];

    /// <summary>Allocates the tensors of <paramref name="specs"/> in order, initializes them from
    /// <paramref name="seed"/> and zeroes the gradients.</summary>
    public ParameterStore(WorldPMContext context, IReadOnlyList<ParameterSpec> specs, int seed)
    {
        long[] offsets = new long[specs.Count];
        long size = 0;
        for (int i = 0; i < specs.Count; i++)
        {
            offsets[i] = AlignUp(size);
            size = offsets[i] + specs[i].Count;
        }
        Values = context.Allocate<float>(size);
        Grads = context.Allocate<float>(size);
        Values.Fill(0);
        Grads.Fill(0);
        for (int i = 0; i < specs.Count; i++)
        {
            ParameterSpec spec = specs[i];
            long count = spec.Count;
            var parameter = new Parameter(spec.Name, spec.Shape, spec.Kind == ParameterKind.Matrix,
                Values.View(offsets[i], count), Grads.View(offsets[i], count));
            Initialize(parameter, spec.Kind, seed);
            parameters.Add(parameter);
            byName.Add(spec.Name, parameter);
        }
    }

    /// <summary>All values, back to back in declaration order (gaps between tensors hold zeros).</summary>
    public DeviceBuffer<float> Values { get; }

    /// <summary>All gradients, laid out like <see cref="Values"/>.</summary>
    public DeviceBuffer<float> Grads { get; }

    /// <summary>The parameters in declaration order.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>The parameter with this Hugging Face name.</summary>
    public Parameter this[string name] => byName[name];

    /// <summary>The offset rounded up to <see cref="Alignment"/>.</summary>
    public static long AlignUp(long offset) => (offset + Alignment - 1) / Alignment * Alignment;
    /// <summary>
    /// Matrices get normal(0, 0.02) from a seed that depends only on the model seed and the tensor's name, so
    /// adding a tensor never changes the others; norm weights get ones and biases zeros (Hugging Face's Qwen2 init).
    /// </summary>
    private static void Initialize(Parameter parameter, ParameterKind kind, int seed)
    {
        switch (kind)
        {
            case ParameterKind.Matrix:
                parameter.Value.FillNormal(TensorSeed(seed, parameter.Name), 0f, MatrixStd);
                break;
            case ParameterKind.NormWeight:
                parameter.Value.Fill(1);
                break;
            case ParameterKind.Bias:
                parameter.Value.Fill(0);
                break;
        }
    }

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

    public void Dispose()
    {
        foreach (Parameter p in parameters)
        {
            p.Value.Dispose();
            p.Grad.Dispose();
        }
        Values.Dispose();
        Grads.Dispose();
    }
}
