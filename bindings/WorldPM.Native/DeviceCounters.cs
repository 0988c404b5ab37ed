namespace WorldPM.Native;

/// <summary>
/// What a device context (cuda, emu) has done since it was created (wpm_device_counters). The emu backend runs
/// the cuda backend's host code, so these are the counts a GPU would see; the difference of two readings counts
/// the work between them (a training step's host waits, say).
/// </summary>
/// <param name="HostWaits">Times the host waited for the context's stream (a read, a synchronize, an upload that waits).</param>
/// <param name="DeviceToHostCopies">Device-to-host copies.</param>
/// <param name="HostToDeviceCopies">Host-to-device copies.</param>
/// <param name="Launches">Kernel launches.</param>
/// <param name="Gemms">GEMM calls.</param>
public sealed record DeviceCounters(long HostWaits, long DeviceToHostCopies, long HostToDeviceCopies, long Launches, long Gemms)
{
    /// <summary>What happened between an earlier reading and this one.</summary>
    public DeviceCounters Since(DeviceCounters earlier) => new(
        HostWaits - earlier.HostWaits, DeviceToHostCopies - earlier.DeviceToHostCopies,
        HostToDeviceCopies - earlier.HostToDeviceCopies, Launches - earlier.Launches, Gemms - earlier.Gemms);
}
