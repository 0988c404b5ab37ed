namespace WorldPM.Native.Interop;

/// <summary>
/// The ABI version these bindings were written against (WPM_VERSION_MAJOR/MINOR of worldpm.h), and the
/// rule for which native libraries they accept: the same major (an incompatible ABI otherwise), and a
/// minor at least as new (older libraries lack functions or struct fields these bindings use).
/// A newer minor is fine: it only adds.
/// </summary>
internal static class AbiVersion
{
    internal const int Major = 0;
    internal const int Minor = 3;

    internal static Version Managed => new(Major, Minor);

    /// <summary>Unpacks wpm_version()'s <c>major &lt;&lt; 16 | minor &lt;&lt; 8 | patch</c>.</summary>
    internal static Version Unpack(uint packed) =>
        new((int)(packed >> 16), (int)((packed >> 8) & 0xff), (int)(packed & 0xff));

    /// <summary>Throws <see cref="WorldPMException"/> naming both versions unless the native one is compatible.</summary>
    internal static void EnsureCompatible(uint nativePacked, string libraryPath)
    {
        Version native = Unpack(nativePacked);
        if (native.Major == Major && native.Minor >= Minor) return;
        string why = native.Major != Major
            ? "the major versions differ, so the ABI is incompatible"
            : "the native library is older than these bindings";
        throw new WorldPMException(
            $"The WorldPM native library at '{libraryPath}' has ABI version {native.ToString(3)} but the bindings " +
            $"(WorldPM.Native {Managed.ToString(2)}) need {Major}.{Minor} or a newer {Major}.x: {why}. " +
            "Rebuild the native library from the same source tree as the bindings.");
    }
}
