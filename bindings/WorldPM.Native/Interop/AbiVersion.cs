namespace WorldPM.Native.Interop;

/// <summary>
/// The ABI version these bindings were written against (WPM_VERSION_MAJOR/MINOR of worldpm.h), and the
/// rule for which native libraries they accept: the same major (an incompatible ABI otherwise), and a
/// minor at least as new (older libraries lack functions or struct fields these bindings use). From 1.0 a
/// newer minor is fine: it only adds. Before 1.0 a minor may change signatures (0.3 moved RoPE, RMSNorm and
/// last-token pooling to parameter structs), so a 0.x library must have exactly the bindings' minor; a newer
/// patch is fine.
/// </summary>
internal static class AbiVersion
{
    internal const int Major = 0;
    internal const int Minor = 7;

    internal static Version Managed => new(Major, Minor);

    /// <summary>Unpacks wpm_version()'s <c>major &lt;&lt; 16 | minor &lt;&lt; 8 | patch</c>.</summary>
    internal static Version Unpack(uint packed) =>
        new((int)(packed >> 16), (int)((packed >> 8) & 0xff), (int)(packed & 0xff));

    /// <summary>Throws <see cref="WorldPMException"/> naming both versions unless the native one is compatible.</summary>
    internal static void EnsureCompatible(uint nativePacked, string libraryPath)
    {
        Version native = Unpack(nativePacked);
        bool preRelease = Major == 0;
        if (native.Major == Major && (preRelease ? native.Minor == Minor : native.Minor >= Minor)) return;
        string why = native.Major != Major ? "the major versions differ, so the ABI is incompatible"
            : native.Minor < Minor ? "the native library is older than these bindings"
            : "before 1.0 a newer minor may change signatures, so the minor must match";
        string need = preRelease ? $"{Major}.{Minor}.x" : $"{Major}.{Minor} or a newer {Major}.x";
        throw new WorldPMException(
            $"The WorldPM native library at '{libraryPath}' has ABI version {native.ToString(3)} but the bindings " +
            $"(WorldPM.Native {Managed.ToString(2)}) need {need}: {why}. " +
            "Rebuild the native library from the same source tree as the bindings.");
    }
}
