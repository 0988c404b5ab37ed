using System.Globalization;

namespace WorldPM.Checkpoints;

/// <summary>
/// <c>training_state.safetensors</c>, written beside the weights: one safetensors file whose tensors are
/// <see cref="TrainingState.Tensors"/> (bit for bit) and whose header metadata holds the step under
/// <c>worldpm.step</c> and every scalar under <c>worldpm.scalar.&lt;name&gt;</c>, plus the data checksum.
/// One file, so the state is saved atomically as a whole and verified like the weights; any safetensors
/// tool can inspect it.
/// </summary>
public static class TrainingStateFile
{
    /// <summary>The file's name in a checkpoint directory.</summary>
    public const string FileName = "training_state.safetensors";

    private const string StepKey = "worldpm.step";
    private const string ScalarPrefix = "worldpm.scalar.";

    /// <summary>Writes <paramref name="state"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, TrainingState state)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in state.Scalars.Raw) metadata[ScalarPrefix + key] = value;
        metadata[StepKey] = state.Step.ToString(CultureInfo.InvariantCulture);
        SafeTensorsWriter.Write(path, state.Tensors.Values, metadata);
    }

    /// <summary>Reads the state at <paramref name="path"/>, verifying its checksum.</summary>
    public static TrainingState Read(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        TrainingState state = FromHeader(file, path);
        foreach (var tensor in file.ReadAll()) state.Add(tensor);
        return state;
    }

    /// <summary>The step and scalars at <paramref name="path"/>, read from the header alone: for readers of what a run
    /// recorded (its objective), which need none of the optimizer tensors, so their bytes are neither read nor
    /// checksummed (the header is still validated).</summary>
    public static TrainingState ReadHeader(string path)
    {
        using var file = SafeTensorsFile.Open(path, verifyChecksum: false);
        return FromHeader(file, path);
    }

    private static TrainingState FromHeader(SafeTensorsFile file, string path)
    {
        if (!file.Metadata.TryGetValue(StepKey, out var stepText))
            throw new CheckpointFormatException(path, $"no {StepKey} in the metadata: not a WorldPM training state");
        if (!long.TryParse(stepText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long step))
            throw new CheckpointFormatException(path, $"{StepKey} is \"{stepText}\", not an integer");
        var state = new TrainingState { Step = step };
        foreach (var (key, value) in file.Metadata)
            if (key.StartsWith(ScalarPrefix, StringComparison.Ordinal))
                state.Scalars.SetString(key[ScalarPrefix.Length..], value);
        return state;
    }
}
