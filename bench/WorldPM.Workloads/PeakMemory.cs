namespace WorldPM.Workloads;

/// <summary>
/// The process's peak resident set (VmHWM in /proc/self/status, Linux), and a reset of it so that a workload's peak is
/// its own rather than that of the 512 MiB copy ceiling measured before it.
/// </summary>
public static class PeakMemory
{
    /// <summary>Peak resident bytes, or null where /proc is not there.</summary>
    public static long? PeakResidentBytes() => StatusBytes("VmHWM:");

    /// <summary>Resident bytes now, or null where /proc is not there.</summary>
    public static long? ResidentBytes() => StatusBytes("VmRSS:");

    private static long? StatusBytes(string field)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return null;
        foreach (string line in File.ReadLines(path))
        {
            if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);  // "VmHWM:", "123456", "kB"
            return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return null;
    }

    /// <summary>
    /// Sets the peak back to the current resident set (writing 5 to /proc/self/clear_refs, Linux 4.0+). Returns false
    /// where that is not possible; the peak then covers the whole process. The peak after a reset still counts what
    /// was resident at the reset (<see cref="ResidentBytes"/> then): an earlier workload's memory that the runtime or
    /// the C heap kept. Only a process that runs the one workload (<c>worldpm bench --only W5</c>) has none of it.
    /// </summary>
    public static bool TryReset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
