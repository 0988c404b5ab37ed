namespace WorldPM.Checkpoints;

/// <summary>
/// Produces a streamed tensor's bytes (see <see cref="TensorData.Streamed"/>): fills <paramref name="destination"/>
/// with the bytes that start <paramref name="offset"/> bytes into the tensor. Offset and length are whole elements.
/// </summary>
public delegate void TensorBytes(long offset, Span<byte> destination);
