using WorldPM.Native;

namespace WorldPM.Benchmarks.Infrastructure;

/// <summary>
/// The backend parameter of every benchmark. Its name is what the summary table shows: <c>cpu</c>, <c>cuda</c>,
/// or <c>emu (emulation)</c>, so nobody reads an emulator time as a GPU time.
/// </summary>
public sealed record BackendCase(Backend Backend)
{
    /// <summary>True for the CUDA emulator, which runs the CUDA kernels on the CPU (orders of magnitude slower).</summary>
    public bool IsEmulation => Backend == Backend.Emu;

    /// <summary>The backends whose <c>wpm_backend_query</c> says available here: cpu always, then emu and cuda.</summary>
    public static IEnumerable<BackendCase> Available() =>
        new[] { Backend.Cpu, Backend.Emu, Backend.Cuda }
            .Where(backend => WorldPMContext.QueryBackend(backend).Available)
            .Select(backend => new BackendCase(backend));

    /// <inheritdoc/>
    public override string ToString() => IsEmulation ? "emu (emulation)" : BackendNames.Name(Backend);
}
