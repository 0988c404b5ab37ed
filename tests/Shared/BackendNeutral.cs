namespace WorldPM.Testing;

/// <summary>
/// Marks a test whose subject is host code that does the same work whatever backend computes the model: the terminal
/// progress display, a data folder's per-file report, the bench's JSON contract, sweep bookkeeping, plots, the data
/// preparation. The CPU pass runs them; the emu pass (<c>WORLDPM_BACKEND=emu</c>, scripts/test.sh) leaves them out
/// with <c>--filter TestCategory!=BackendNeutral</c>: there each spends minutes running the kernels under the emulator
/// to reach host code the CPU pass already checked, and the kernels' share of such a run is what the emu pass's own
/// model, training and scoring tests check directly. Also a test that names the backends it runs on itself (an
/// emu-only test, an emu-against-cpu comparison, a command given <c>--backend emu</c>): the environment changes nothing
/// for it, so the emu pass would run it a second time to the same end.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class BackendNeutralAttribute() : CategoryAttribute("BackendNeutral");
