using WorldPM.Native;

namespace WorldPM.Testing;

/// <summary>
/// The backend the suites run on: <c>WORLDPM_BACKEND</c> (cpu, emu, cuda), CPU when unset. CI runs every suite
/// twice, on cpu and on emu, so the kernels behind the C ABI answer the same specifications as the CPU backend.
/// Tests about the CPU backend itself (thread counts, CPU features) create CPU contexts directly.
/// </summary>
public static class TestBackend
{
    /// <summary>The backend under test.</summary>
    public static Backend Kind { get; } = BackendNames.FromEnvironment(Backend.Cpu);

    /// <summary>True when the suite runs on the kernel emulator (slow: tests that only time or scale may shrink).</summary>
    public static bool IsEmulated => Kind == Backend.Emu;
}
