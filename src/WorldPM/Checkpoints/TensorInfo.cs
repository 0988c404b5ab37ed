namespace WorldPM.Checkpoints;

/// <summary>
/// One entry of a safetensors header: what a tensor is and where its bytes lie. <see cref="Begin"/> and
/// <see cref="End"/> are byte offsets relative to the start of the data section (the header's
/// <c>data_offsets</c>); a validated header guarantees <c>End - Begin == ByteLength</c>.
/// </summary>
public sealed record TensorInfo(string Name, TensorDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Size of the tensor's data in bytes.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => ByteLength / DType.ByteSize();

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {DType} [{string.Join(", ", Shape)}]";
}
