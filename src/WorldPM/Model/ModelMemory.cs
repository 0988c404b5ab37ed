using System.Globalization;
using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// What a model of a config needs in memory before anything is allocated, so a config that cannot fit (a typo of
/// num_hidden_layers, a 72B shape on a laptop) is refused with the sizes instead of growing the process until it
/// fails. Counted from the config's shapes: one layer's tensors times the layer count, never a list of every tensor.
/// </summary>
public static class ModelMemory
{
    /// <summary>Parameters of a reward model with <paramref name="config"/> (a double: absurd configs overflow a long).</summary>
    public static double ParameterCount(ModelConfig config)
    {
        ParameterBreakdown parts = Components(config);
        return parts.Embedding + parts.Layers + parts.FinalNorm + parts.Head;
    }

    /// <summary>The parameters by component: the token embedding, one decoder layer, all layers, the final norm, the head.</summary>
    public static ParameterBreakdown Components(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        static double Count(IEnumerable<ParameterSpec> specs) => specs.Sum(s => s.Shape.Aggregate(1.0, (n, dim) => n * dim));
        double perLayer = Count(DecoderLayer.Specs(config, 0));
        return new ParameterBreakdown((double)config.VocabSize * config.HiddenSize, perLayer, perLayer * config.NumHiddenLayers,
            config.HiddenSize, Count(PreferenceHead.Specs(config)));
    }

    /// <summary>
    /// Bytes of the training activations of one batch of <paramref name="sequences"/> sequences of
    /// <paramref name="tokens"/> tokens (a training micro-batch of P pairs is 2 P sequences), with or without
    /// <paramref name="recompute"/>: sized by the same layout the model carves its activation buffers with, so the
    /// figure is the allocation, not an estimate. <paramref name="packed"/>: the sequences are packed and
    /// <paramref name="tokens"/> is their total (a token budget). The model keeps its buffers for the largest batch it
    /// has run, so this is the figure of the largest batch.
    /// </summary>
    public static double ActivationBytes(ModelConfig config, Precision precision, int sequences, int tokens,
        bool recompute = false, bool packed = false) =>
        ArenaBytes(config, precision, sequences, tokens, recompute ? ActivationPlan.Recompute : ActivationPlan.KeepAll, packed);

    /// <summary><see cref="ActivationBytes"/> of a scoring forward (score, eval, serve): one residual stream and one
    /// layer's working set, whatever the layer count.</summary>
    public static double ScoringActivationBytes(ModelConfig config, Precision precision, int sequences, int tokens,
        bool packed = false) =>
        ArenaBytes(config, precision, sequences, tokens, ActivationPlan.ForwardOnly, packed);

    private static double ArenaBytes(ModelConfig config, Precision precision, int sequences, int tokens,
        ActivationPlan plan, bool packed)
    {
        ArgumentNullException.ThrowIfNull(config);
        var shape = new BatchShape(config, sequences, tokens, packed);
        ArenaSizer sizer = ActivationArena<float>.Size(shape, fullLastLayer: false, plan);
        return (double)sizer.Size * StorageBytes(precision) + (double)sizer.F32Size * 4 + (double)ActivationArena<float>.IntegerCount(shape) * 4;
    }

    /// <summary>AdamW's two fp32 moments per parameter.</summary>
    public static double OptimizerBytes(ModelConfig config) => ParameterCount(config) * 8;

    private static int StorageBytes(Precision precision) => precision == Precision.F32 ? 4 : 2;

    /// <summary>Bytes of the model's weights: the fp32 masters and, when the storage type is not fp32, the working
    /// copy in it. What scoring holds besides activations; training adds <see cref="GradientBytes"/>, AdamW's two fp32
    /// moments (8 bytes a parameter) and its activations.</summary>
    public static double WeightBytes(ModelConfig config, Precision precision) =>
        ParameterCount(config) * (4 + (precision == Precision.F32 ? 0 : StorageBytes(precision)));

    /// <summary>Bytes of the gradients, one per parameter in the storage type: allocated by the first training use,
    /// never by a model that only scores.</summary>
    public static double GradientBytes(ModelConfig config, Precision precision) =>
        ParameterCount(config) * StorageBytes(precision);

    /// <summary>
    /// Throws an <see cref="InsufficientMemoryException"/> when the model's weights alone exceed the memory of a
    /// host-memory backend (cpu, emu): the machine's physical memory or the process's container limit. A CUDA
    /// device's memory is checked by its allocator when the buffers are made.
    /// </summary>
    public static void RequireFits(ModelConfig config, Precision precision, Backend backend)
    {
        if (Available(backend) is not long available) return;
        double needed = WeightBytes(config, precision);
        if (needed > available)
            throw new InsufficientMemoryException(string.Create(CultureInfo.InvariantCulture,
                $"the model needs {Size(needed)} for its weights ({ParameterCount(config):G3} parameters, " +
                $"{precision.ToString().ToLowerInvariant()}), and this {backend.ToString().ToLowerInvariant()} backend has " +
                $"{Size(available)} of memory"));
    }

    /// <summary>The memory a host-memory backend (cpu, emu) works in: the machine's physical memory or the process's
    /// container limit; null for a device backend, whose memory its allocator checks.</summary>
    public static long? Available(Backend backend) =>
        backend is Backend.Cpu or Backend.Emu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : null;

    /// <summary>A byte count as "1.03 TB" (decimal units).</summary>
    public static string Size(double bytes)
    {
        string[] units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
        int unit = 0;
        while (bytes >= 1000 && unit < units.Length - 1)
        {
            bytes /= 1000;
            unit++;
        }
        return string.Create(CultureInfo.InvariantCulture, $"{bytes:0.##} {units[unit]}");
    }
}

/// <summary>A model's parameters by component (doubles: a shape may be far beyond what a long counts in bytes).</summary>
public sealed record ParameterBreakdown(double Embedding, double PerLayer, double Layers, double FinalNorm, double Head);
