using System.Diagnostics;
using WorldPM.Native;

namespace WorldPM.Workloads;

/// <summary>
/// The median and the minimum wall time of repeated runs of one workload, in milliseconds. The median is the
/// number to report (robust to the odd slow run on a shared machine); the minimum shows what the code can do
/// when nothing interferes, and the gap between the two shows the noise. On a device backend
/// <see cref="PerRun"/> counts what one run of the body did on the device (host waits, copies, launches, GEMMs),
/// without the benchmark's own synchronisation around it. With <see cref="BenchSettings.CountKernels"/>,
/// <see cref="Kernels"/> is the emulator's count of the last repetition's work per kernel.
/// </summary>
public readonly record struct Timing(double MedianMs, double MinMs, DeviceCounters? PerRun = null,
    IReadOnlyList<KernelProfile>? Kernels = null)
{
    /// <summary><see cref="Measure(WorldPMContext, int, Action, Action)"/> with the settings' repetitions, counting
    /// the last one's kernels when they ask for it.</summary>
    public static Timing Measure(WorldPMContext context, BenchSettings settings, Action setup, Action body)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.CountKernels) return Measure(context, settings.Repetitions, setup, body);
        Timing timed = settings.Repetitions > 1 ? Measure(context, settings.Repetitions - 1, setup, body) : default;
        if (settings.Repetitions == 1)
        {
            setup();
            body();
            context.Synchronize();
        }
        setup();
        context.StartProfile();
        double ms = TimeOnce(context, () => { }, body, out DeviceCounters? perRun);
        context.StopProfile();
        IReadOnlyList<KernelProfile> kernels = context.KernelProfiles();
        return settings.Repetitions > 1 ? timed with { Kernels = kernels } : new Timing(ms, ms, perRun, kernels);
    }

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
        DeviceCounters? perRun = null;
        for (int r = 0; r < repetitions; ++r) ms[r] = TimeOnce(context, setup, body, out perRun);
        return Summarize(ms, perRun);
    }

    /// <summary>
    /// <see cref="Measure"/> for two variants of one workload (fp32 and bf16), their repetitions alternating, so that
    /// both see the same load on a shared machine and their ratio means something. One warm-up each first.
    /// </summary>
    public static (Timing First, Timing Second) MeasureAlternating(WorldPMContext context, int repetitions,
        (Action Setup, Action Body) first, (Action Setup, Action Body) second)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        (Action Setup, Action Body)[] variants = [first, second];
        var ms = new double[2][];
        var perRun = new DeviceCounters?[2];
        for (int v = 0; v < 2; ++v)
        {
            variants[v].Setup();
            variants[v].Body();
            context.Synchronize();
            ms[v] = new double[repetitions];
        }
        for (int r = 0; r < repetitions; ++r)
            for (int v = 0; v < 2; ++v) ms[v][r] = TimeOnce(context, variants[v].Setup, variants[v].Body, out perRun[v]);
        return (Summarize(ms[0], perRun[0]), Summarize(ms[1], perRun[1]));
    }

    /// <summary>Setup untimed, then the body timed to completion on the context: milliseconds. The device
    /// counters are read right before and after the body, so the synchronisation that stops the clock is not
    /// counted as the body's (reading them waits for nothing).</summary>
    private static double TimeOnce(WorldPMContext context, Action setup, Action body, out DeviceCounters? perRun)
    {
        setup();
        context.Synchronize();
        DeviceCounters? before = context.DeviceCounters;
        long start = Stopwatch.GetTimestamp();
        body();
        perRun = context.DeviceCounters?.Since(before!);
        context.Synchronize();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static Timing Summarize(double[] ms, DeviceCounters? perRun)
    {
        Array.Sort(ms);
        return new Timing(ms[ms.Length / 2], ms[0], perRun);
    }
}
