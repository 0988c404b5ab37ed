using System.Diagnostics;
using WorldPM.Native;

namespace WorldPM.Benchmarks;

/// <summary>
/// The median and the minimum wall time of repeated runs of one workload, in milliseconds. The median is the
/// number to report (robust to the odd slow run on a shared machine); the minimum shows what the code can do
/// when nothing interferes, and the gap between the two shows the noise.
/// </summary>
public readonly record struct Timing(double MedianMs, double MinMs)
{
    /// <summary>
    /// Runs <paramref name="setup"/> then <paramref name="body"/> once as a warm-up (first-touch page faults, thread
    /// pool start, BLAS buffers), then <paramref name="repetitions"/> times timing only the body. Setup runs before
    /// every repetition, untimed, so each one sees fresh random inputs. The context is synchronized before the clock
    /// stops, so asynchronous backends are timed to completion, not to the last launch.
    /// </summary>
    public static Timing Measure(WorldPMContext context, int repetitions, Action setup, Action body)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        setup();
        body();
        context.Synchronize();
        var ms = new double[repetitions];
        for (int r = 0; r < repetitions; ++r)
        {
            setup();
            context.Synchronize();
            long start = Stopwatch.GetTimestamp();
            body();
            context.Synchronize();
            ms[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(ms);
        return new Timing(ms[repetitions / 2], ms[0]);
    }
}
