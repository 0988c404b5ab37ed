namespace WorldPM.Checkpoints;

/// <summary>
/// What a loader needs a checkpoint tensor to be: its shape, and its dtype when the loader cares
/// (null accepts any; a loader that converts F32/F16/BF16 on the way in usually passes null).
/// </summary>
public sealed record TensorExpectation(long[] Shape, TensorDType? DType = null)
{
    /// <inheritdoc/>
    public override string ToString() => $"{(DType is { } d ? d + " " : "")}[{string.Join(", ", Shape)}]";
}
