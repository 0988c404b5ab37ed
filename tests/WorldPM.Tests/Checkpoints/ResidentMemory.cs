using System.Globalization;

namespace WorldPM.Tests.Checkpoints;

/// <summary>The process's resident memory from /proc/self/status, and its peak since the last reset.</summary>
internal static class ResidentMemory
{
    /// <summary>Resident bytes now (VmRSS).</summary>
    public static long Current => Read("VmRSS");

    /// <summary>The most resident bytes since the last <see cref="ResetPeak"/> (VmHWM).</summary>
    public static long Peak => Read("VmHWM");

    private static long Read(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            string kilobytes = line[(field.Length + 1)..].Trim().Split(' ')[0];
            return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"/proc/self/status has no {field}");
    }

    /// <summary>Sets the peak (VmHWM) back to the current resident memory (Linux 4.0 on); ignores the test where the
    /// kernel does not allow it, since no peak could then be measured.</summary>
    public static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Assert.Ignore($"cannot reset the peak resident memory through /proc/self/clear_refs ({e.Message}), so the peak cannot be measured");
        }
    }

    /// <summary>How much the peak grew over the resident memory before <paramref name="action"/> while it ran.</summary>
    public static long PeakGrowthDuring(Action action)
    {
        long before = Current;
        ResetPeak();
        action();
        return Peak - before;
    }
}
