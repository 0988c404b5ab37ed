using System.Globalization;

namespace WorldPM.Checkpoints;

/// <summary>
/// <c>training_state.safetensors</c>, written beside the weights: one safetensors file whose tensors are
/// <see cref="TrainingState.Tensors"/> (bit for bit) and whose header metadata holds the step under
/// <c>worldpm.step</c> and every scalar under <c>worldpm.scalar.&lt;name&gt;</c>, plus the data checksum.
/// One file, so the state is saved atomically as a whole and verified like the weights; any safetensors
/// tool can inspect it.
/// </summary>
/// <remarks>
/// Writing goes through <see cref="SafeTensorsWriter"/>, tensor by tensor and each in bounded pieces, so streamed
/// tensors (a trainer's moments and masters, read from the device as they are written) of any size are saved without
/// the state being whole on the host. <see cref="Open"/> maps the file and hands out its tensors to be copied straight
/// into device buffers; <see cref="Read"/> reads every tensor into memory (each under 2 GiB), for inspecting small states.
/// </remarks>
public static class TrainingStateFile
{
    /// <summary>The file's name in a checkpoint directory.</summary>
    public const string FileName = "training_state.safetensors";

    private const string StepKey = "worldpm.step";
    private const string ScalarPrefix = "worldpm.scalar.";

    /// <summary>Writes <paramref name="state"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, TrainingState state) => SafeTensorsWriter.Write(path, state.Tensors.Values, Metadata(state));

    private static Dictionary<string, string> Metadata(TrainingState state)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in state.Scalars.Raw) metadata[ScalarPrefix + key] = value;
        metadata[StepKey] = state.Step.ToString(CultureInfo.InvariantCulture);
        return metadata;
    }

    /// <summary>
    /// Writes nowhere, reading every tensor of <paramref name="state"/> piece by piece in the order <see cref="Write"/>
    /// reads them: what a rank that does not write runs beside the writing one when the tensors' pieces are collectives
    /// (ZeRO-1's moments, gathered from their owners piece by piece), so that every rank takes part in the same ones.
    /// </summary>
    public static void Drain(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        SafeTensorsWriter.WriteTo(Stream.Null, state.Tensors.Values, Metadata(state));
    }

    /// <summary>
    /// Opens the state at <paramref name="path"/>, verifying its checksum: the step and scalars read, the tensors left in
    /// the memory-mapped file until copied (<see cref="TensorData.CopyTo(WorldPM.Native.DeviceBuffer, long)"/>). Dispose it
    /// to close the file.
    /// </summary>
    public static TrainingState Open(string path)
    {
        var file = SafeTensorsFile.Open(path);
        try
        {
            var state = new TrainingState(file);
            FromHeader(file, path, state);
            foreach (var tensor in file.Tensors) state.Add(TensorData.InFile(file, tensor.Name));
            return state;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the state at <paramref name="path"/> into memory, verifying its checksum.</summary>
    public static TrainingState Read(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        TrainingState state = FromHeader(file, path, new TrainingState());
        foreach (var tensor in file.ReadAll()) state.Add(tensor);
        return state;
    }

    /// <summary>The step and scalars at <paramref name="path"/>, read from the header alone: for readers of what a run
    /// recorded (its objective), which need none of the optimizer tensors, so their bytes are neither read nor
    /// checksummed (the header is still validated).</summary>
    public static TrainingState ReadHeader(string path)
    {
        using var file = SafeTensorsFile.Open(path, verifyChecksum: false);
        return FromHeader(file, path, new TrainingState());
    }

    /// <summary>Sets <paramref name="state"/>'s step and scalars from the file's header.</summary>
    private static TrainingState FromHeader(SafeTensorsFile file, string path, TrainingState state)
    {
        if (!file.Metadata.TryGetValue(StepKey, out var stepText))
            throw new CheckpointFormatException(path, $"no {StepKey} in the metadata: not a WorldPM training state");
        if (!long.TryParse(stepText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long step))
            throw new CheckpointFormatException(path, $"{StepKey} is \"{stepText}\", not an integer");
        state.Step = step;
        foreach (var (key, value) in file.Metadata)
            if (key.StartsWith(ScalarPrefix, StringComparison.Ordinal))
                state.Scalars.SetString(key[ScalarPrefix.Length..], value);
        return state;
    }
}
