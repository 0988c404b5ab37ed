namespace WorldPM.Checkpoints;

/// <summary>
/// Everything beyond the weights that resuming needs to continue a run exactly: the optimizer step, the
/// optimizer's tensors (Adam moments named <c>&lt;param&gt;.adam_m</c> / <c>&lt;param&gt;.adam_v</c>, fp32
/// master weights <c>&lt;param&gt;.master</c> when the working copy, and so the saved weights, are fp16/bf16)
/// and the scalars (<see cref="Scalars"/>: loss
/// scale, RNG state, data position, ...). Saved with <see cref="TrainingStateFile"/>.
/// </summary>
/// <remarks>
/// The tensors are usually not on the host: a trainer's state streams them from its device buffers when written,
/// and a state opened with <see cref="TrainingStateFile.Open"/> reads them from the file's memory map when restored
/// (<see cref="TensorData.CopyTo(WorldPM.Native.DeviceBuffer, long)"/>), so a state of any size is never whole in
/// memory. Disposing an opened state closes its file; a state built in memory has nothing to close.
/// </remarks>
public sealed class TrainingState : IDisposable
{
    private readonly IDisposable? file;

    /// <summary>An empty state.</summary>
    public TrainingState()
    {
    }

    /// <summary>A state whose tensors read from <paramref name="file"/>, which it closes when disposed.</summary>
    internal TrainingState(IDisposable file) => this.file = file;

    /// <summary>Optimizer steps taken.</summary>
    public long Step { get; set; }

    /// <summary>The optimizer's tensors, by name.</summary>
    public Dictionary<string, TensorData> Tensors { get; } = new(StringComparer.Ordinal);

    /// <summary>The named scalars.</summary>
    public TrainingScalars Scalars { get; } = new();

    /// <summary>Adds (or replaces) a tensor under its own name.</summary>
    public void Add(TensorData tensor) => Tensors[tensor.Name] = tensor;

    /// <summary>The name of Adam's first moment of parameter <paramref name="parameter"/>.</summary>
    public static string FirstMomentName(string parameter) => parameter + ".adam_m";

    /// <summary>The name of Adam's second moment of parameter <paramref name="parameter"/>.</summary>
    public static string SecondMomentName(string parameter) => parameter + ".adam_v";

    /// <summary>The name of the fp32 master weights of parameter <paramref name="parameter"/>, saved here when the
    /// checkpoint's weights are f16/bf16.</summary>
    public static string MasterName(string parameter) => parameter + ".master";

    /// <inheritdoc/>
    public void Dispose() => file?.Dispose();
}
