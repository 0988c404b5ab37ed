namespace WorldPM.Native;

/// <summary>
/// What one kernel's launches did while an emu context counted (wpm_kernel_profile): counts of work, counted by
/// the emulator as each thread ran, never times.
/// </summary>
/// <param name="Kernel">The kernel's function name; "gemm" for the GEMMs, whose bytes and FLOPs are the formula's.</param>
/// <param name="Launches">Launches counted.</param>
/// <param name="BytesRead">Global-memory bytes the threads loaded (each access, no cache model).</param>
/// <param name="BytesWritten">Global-memory bytes the threads stored.</param>
/// <param name="SharedBytesRead">Shared-memory bytes loaded.</param>
/// <param name="SharedBytesWritten">Shared-memory bytes stored.</param>
/// <param name="MinBytes">The least global memory the launches must move (inputs read once, outputs written once);
/// 0 where the kernel's launcher states none.</param>
/// <param name="MmaInstructions">Tensor-core mma.sync m16n8k16 instructions.</param>
/// <param name="MmaFlops">Their FLOPs, and the GEMMs' 2 m n k.</param>
/// <param name="OtherFlops">Other floating-point operations the kernel reports (0 where it reports none).</param>
/// <param name="BytesCounted">False in a build whose kernels do not report plain loads and stores (the sanitizer
/// builds): the byte counts then hold cp.async and ldmatrix only.</param>
public sealed record KernelProfile(string Kernel, long Launches, long BytesRead, long BytesWritten, long SharedBytesRead,
    long SharedBytesWritten, long MinBytes, long MmaInstructions, long MmaFlops, long OtherFlops, bool BytesCounted)
{
    /// <summary>Global-memory bytes read and written.</summary>
    public long Bytes => BytesRead + BytesWritten;

    /// <summary>Tensor-core and other FLOPs.</summary>
    public long Flops => MmaFlops + OtherFlops;
}
