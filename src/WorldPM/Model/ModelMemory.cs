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
        ArgumentNullException.ThrowIfNull(config);
        static double Count(IEnumerable<ParameterSpec> specs) => specs.Sum(s => s.Shape.Aggregate(1.0, (n, dim) => n * dim));
        return (double)config.VocabSize * config.HiddenSize
            + (double)config.NumHiddenLayers * Count(DecoderLayer.Specs(config, 0))
            + config.HiddenSize
            + Count(PreferenceHead.Specs(config));
    }

    /// <summary>Bytes of the model's own buffers: fp32 master weights, gradients in the storage type, and the storage-type
    /// working copy when that is not fp32. Training adds AdamW's two fp32 moments (8 bytes a parameter) and activations.</summary>
    public static double WeightBytes(ModelConfig config, Precision precision)
    {
        int storage = precision == Precision.F32 ? 4 : 2;
        return ParameterCount(config) * (4 + storage + (precision == Precision.F32 ? 0 : storage));
    }

    /// <summary>
    /// Throws an <see cref="InsufficientMemoryException"/> when the model's buffers alone exceed the memory of a
    /// host-memory backend (cpu, emu): the machine's physical memory or the process's container limit. A CUDA
    /// device's memory is checked by its allocator when the buffers are made.
    /// </summary>
    public static void RequireFits(ModelConfig config, Precision precision, Backend backend)
    {
        if (backend is not (Backend.Cpu or Backend.Emu)) return;
        double needed = WeightBytes(config, precision);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (needed > available)
            throw new InsufficientMemoryException(string.Create(CultureInfo.InvariantCulture,
                $"the model needs {Size(needed)} for its weights and gradients ({ParameterCount(config):G3} parameters, " +
                $"{precision.ToString().ToLowerInvariant()}), and this {backend.ToString().ToLowerInvariant()} backend has " +
                $"{Size(available)} of memory"));
    }

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
