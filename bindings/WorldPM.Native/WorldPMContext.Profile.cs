using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native;

/// <summary>
/// The emu backend's work counters per kernel (<c>wpm_context_profile</c>): the emulator counts each kernel's
/// global- and shared-memory bytes and FLOPs as its threads run. Only emu counts (other backends throw
/// <see cref="WorldPMException"/> with <see cref="WorldPMStatus.Unsupported"/>), and one context of the process
/// at a time.
/// </summary>
public sealed unsafe partial class WorldPMContext
{
    /// <summary>Starts counting afresh (the table is cleared) after the queued work.</summary>
    public void StartProfile() => SetProfile(true);

    /// <summary>Stops counting after the queued work; <see cref="KernelProfiles"/> keeps what was counted.</summary>
    public void StopProfile() => SetProfile(false);

    private void SetProfile(bool enable)
    {
        using var lease = new HandleLease([this]);
        Check(NativeMethods.wpm_context_profile(Ptr(this), enable ? 1 : 0));
    }

    /// <summary>One row per kernel counted so far, in the order the kernels first ran (waits for the queued work).</summary>
    public IReadOnlyList<KernelProfile> KernelProfiles()
    {
        using var lease = new HandleLease([this]);
        nuint count = 0;
        Check(NativeMethods.wpm_context_profile_kernels(Ptr(this), null, 0, &count));
        var rows = new NativeMethods.wpm_kernel_profile[(int)count];
        for (int i = 0; i < rows.Length; ++i) rows[i].struct_size = (nuint)sizeof(NativeMethods.wpm_kernel_profile);
        fixed (NativeMethods.wpm_kernel_profile* p = rows)
        {
            nuint written = 0;
            Check(NativeMethods.wpm_context_profile_kernels(Ptr(this), p, (nuint)rows.Length, &written));
            // A kernel that first ran between the two calls is left for the next reading.
            return rows.Take((int)Math.Min(written, count)).Select(Row).ToList();
        }
    }

    private static KernelProfile Row(NativeMethods.wpm_kernel_profile r) =>
        new(Utf8(r.kernel, 64), (long)r.launches, (long)r.bytes_read, (long)r.bytes_written, (long)r.shared_bytes_read,
            (long)r.shared_bytes_written, (long)r.min_bytes, (long)r.mma_instructions, (long)r.mma_flops,
            (long)r.other_flops, r.bytes_counted != 0);
}
