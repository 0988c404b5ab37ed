namespace WorldPM.Testing;

/// <summary>
/// Marks a test that trains for hundreds of steps to show learning (held-out accuracy, a loss curve well below
/// log 2). The CPU pass runs them; the emu pass (<c>WORLDPM_BACKEND=emu</c>, scripts/test.sh) leaves them out with
/// <c>--filter TestCategory!=Convergence</c>: under the kernel emulator each would take hours, and what they would add
/// there (the kernels computing what the CPU backend computes, step after step) is what
/// EmuTrainingTests checks directly, on a short run compared with the CPU backend.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class ConvergenceAttribute() : CategoryAttribute("Convergence");
