namespace WorldPM.Native;

/// <summary>
/// Every op of the WorldPM library, with typed buffers. Each runs on <c>context</c>, which must own every
/// buffer passed. Forward/backward pairs follow the library's gradient rule: backward ops OVERWRITE
/// activation gradients (dx, dq, ...) and ACCUMULATE into parameter gradients (dweight, dtable).
/// <para>
/// Arguments are validated once, by the native library, before any work: a null, undersized, foreign or
/// mistyped buffer, or a bad dimension, raises a <see cref="WorldPMException"/> subclass whose message names
/// the argument. Dimensions use the shape letters of worldpm.h (B batch, T tokens, H heads, D head dim,
/// C channels, N rows, V vocabulary, P pairs). Elementwise ops default their element count to the first
/// input's <see cref="DeviceBuffer.Count"/>.
/// </para>
/// </summary>
public static partial class Ops
{
}
