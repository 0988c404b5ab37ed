using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using WorldPM.Native;
using WorldPM.Workloads;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm bench</c>: times the reference workloads W1–W5 of the benchmark issue (and W4v, W5v: packed against
/// padded) on the selected backend next to the copy and GEMM ceilings measured first in the same run, and prints a table (or, with <c>--json</c>, one JSON
/// object per line: each workload part, each ceiling, the peak RSS). Every number is also a fraction of its ceiling,
/// beside the issue's target. <c>--quick</c> is a smoke run with shrunken shapes and one repetition, labelled as such;
/// its numbers mean nothing.
/// <para>
/// JSON lines, each with <c>id</c>, <c>metric</c>, <c>reps</c> and <c>quick</c>: a workload part
/// (<c>"id":"W2","metric":"bwd_ms"</c>) has <c>median</c> and <c>min</c> in ms, <c>rate</c> (GB/s or GFLOP/s at the
/// median), <c>fraction_of_ceiling</c>, <c>target_fraction</c>, <c>ceiling</c>, <c>work</c>, <c>formula</c>, <c>shape</c>,
/// <c>peak_rss_mib</c> (that workload's own peak, from a high-water mark reset before it) and
/// <c>rss_at_start_mib</c> (what was resident at that reset, which the peak includes: in a process that ran earlier
/// workloads, memory they left behind; <c>--only</c> one workload for a fresh process's figure); a ceiling (<c>"id":"ceiling"</c>, <c>copy_gbps</c> or
/// <c>gemm_gflops</c>) has <c>median</c> and <c>max</c> as rates, from the median and min times; <c>peak_rss</c> has
/// <c>value</c> in MiB and its <c>scope</c> (W4, or the process when W4 did not run). With <c>--bf16</c>, W4 and W5
/// add a bf16 part (<c>step_ms_bf16</c>, <c>score_ms_bf16</c>), timed alternating with fp32, whose line also has
/// <c>fp32_median</c>, <c>fp32_min</c> and <c>speedup_vs_fp32</c> (fp32 median over bf16 median). On a device
/// backend (cuda, emu) every workload part also counts what one repetition asked of the device:
/// <c>host_waits_per_step</c>, <c>d2h_copies_per_step</c>, <c>h2d_copies_per_step</c>, <c>launches_per_step</c> and
/// <c>gemms_per_step</c> (<see cref="WorldPMContext.DeviceCounters"/>).
/// </para>
/// </summary>
internal static class BenchCommand
{
    /// <summary>The issue's bound on W4's peak resident set.</summary>
    private const double RssTargetMiB = 1024;

    private sealed record Arguments(bool Json, bool Quick, int? Repetitions, string? Only, bool Bf16);

    private sealed record Measured(WorkloadResult Result, double? PeakRssMiB);

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per line: each workload part, each ceiling, the peak RSS." };
        var quick = new Option<bool>("--quick") { Description = "Smoke run: shrunken shapes, 1 repetition; the numbers are not measurements." };
        var reps = new Option<int?>("--reps")
        {
            Description = $"Timed repetitions per workload after one warm-up (default {BenchSettings.DefaultRepetitions}; " +
                $"{BenchSettings.QuickRepetitions} with --quick).",
            HelpName = "N",
        }.AtLeast(1);
        var only = new Option<string?>("--only") { Description = "Run only these workloads (the ceilings always run).", HelpName = "W1,W4" };
        var bf16 = new Option<bool>("--bf16")
        {
            Description = "W4 and W5 also in bf16 (fp32 masters), alternating with fp32, with the bf16 speedup.",
        };
        var command = new Command("bench", "Time the reference workloads W1-W5 (and W4v, W5v on real data lengths, packed vs padded) against this machine's copy and GEMM ceilings.")
        {
            json, quick, reps, only, bf16,
        };
        command.SetAction(r => Run(new Arguments(r.GetValue(json), r.GetValue(quick), r.GetValue(reps), r.GetValue(only), r.GetValue(bf16)),
            r.InvocationConfiguration.Output, BackendSelection.Of(r)));
        return command;
    }

    private static int Run(Arguments a, TextWriter output, Backend backend)
    {
        IReadOnlyList<IWorkload> workloads = Selected(a.Only);
        var settings = new BenchSettings(a.Repetitions ?? (a.Quick ? BenchSettings.QuickRepetitions : BenchSettings.DefaultRepetitions), a.Quick, a.Bf16);
        using var context = WorldPMContext.Create(backend);
        var seeds = new SeedSequence();

        if (!a.Json) WriteHeader(output, context, settings);
        Ceilings ceilings = Ceilings.Measure(context, settings, seeds);
        if (a.Json) WriteCeilingsJson(output, ceilings, settings);
        else WriteCeilingsText(output, ceilings);

        var measured = new List<Measured>();
        foreach (IWorkload workload in workloads)
        {
            // Each workload's peak is its own, not the copy ceiling's 512 MiB or an earlier workload's buffers: the
            // earlier workloads' garbage is collected first, and what stays resident is reported beside the peak.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            bool reset = PeakMemory.TryReset();
            double? atReset = reset ? MiB(PeakMemory.ResidentBytes()) : null;
            IReadOnlyList<WorkloadResult> results = workload.Run(context, settings, seeds);
            double? peak = reset ? MiB(PeakMemory.PeakResidentBytes()) : null;
            foreach (WorkloadResult result in results)
            {
                measured.Add(new Measured(result, peak));
                output.WriteLine(a.Json ? ResultJson(result, peak, atReset, ceilings, settings) : ResultRow(result, peak, ceilings));
            }
            output.Flush();
        }

        Measured? w4 = measured.Find(m => m.Result.Id == "W4");
        double? rss = w4?.PeakRssMiB ?? MiB(PeakMemory.PeakResidentBytes());
        string scope = w4?.PeakRssMiB is null ? "process" : "W4";
        if (a.Json)
        {
            var line = Line("peak_rss", "peak_rss_mib", settings);
            line["value"] = rss is null ? null : Math.Round(rss.Value, 1);
            line["scope"] = scope;
            if (scope == "W4") line["target_mib"] = RssTargetMiB;
            output.WriteLine(line.ToJsonString(JsonLines.Readable));
        }
        else
        {
            string verdict = scope == "W4" ? Invariant($" (W4, target <= {RssTargetMiB:F0} MiB)") : " (whole process)";
            output.WriteLine(rss is null ? "peak RSS: not available (no /proc/self/status)" : Invariant($"peak RSS {rss:F0} MiB{verdict}"));
        }
        return 0;
    }

    private static IReadOnlyList<IWorkload> Selected(string? only)
    {
        if (only is null) return WorkloadCatalogue.All;
        string[] ids = only.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length == 0) throw new UsageException("--only needs workload ids, e.g. --only W1,W4");
        try
        {
            return WorkloadCatalogue.Select(ids);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--only: {e.Message}");
        }
    }

    private static void WriteHeader(TextWriter output, WorldPMContext context, BenchSettings settings)
    {
        output.WriteLine($"worldpm bench: libworldpm {WorldPMContext.VersionString}, {BackendNames.Name(context.Backend)} backend, " +
            $"{context.NumThreads} threads, {(settings.Bf16 ? "fp32 and bf16 (W4, W5)" : "fp32")}; median and min of {settings.Repetitions} repetition(s) after a warm-up");
        if (settings.Quick)
            output.WriteLine("QUICK RUN: shrunken shapes (see the shape column), smoke test only; these numbers are not measurements");
    }

    private static void WriteCeilingsText(TextWriter output, Ceilings c)
    {
        output.WriteLine(Invariant($"ceilings: copy {c.CopyGBps:F1} GB/s (bytes read + written, {c.CopyBytes / 2 >> 20} MiB each way; min {c.Copy.MinMs:F2} ms)   GEMM {c.GemmSize}^3 fp32 {c.GemmGFlops:F1} GFLOP/s (min {c.Gemm.MinMs:F2} ms)"));
        output.WriteLine();
        output.WriteLine($"{"id",-3} {"metric",-13} {"median ms",10} {"min ms",10} {"rate",10} {"unit",-7} {"of ceil",8} {"target",7} {"RSS MiB",8}  shape");
    }

    private static string ResultRow(WorkloadResult r, double? peak, Ceilings c) => Invariant(
        $"{r.Id,-3} {r.Metric,-13} {r.Timing.MedianMs,10:F3} {r.Timing.MinMs,10:F3} {r.Rate,10:F2} {r.RateUnit,-7} {r.FractionOf(c),8:P1} {r.Target,7:P0} {(peak is null ? "n/a" : peak.Value.ToString("F0", CultureInfo.InvariantCulture)),8}  {r.Shape}{SpeedupText(r)}");

    private static string SpeedupText(WorkloadResult r) => (r.SpeedupOverFp32 is { } speedup
        ? Invariant($"; speedup over fp32 {speedup:F2}x (min {r.Fp32!.Value.MinMs / r.Timing.MinMs:F2}x)")
        : "") + (r.Packing is { } p
        ? Invariant($"; {r.RealTokensPerSecond:F0} real tokens/s, speedup over padded {p.SpeedupOver(r.Timing):F2}x of an ideal {p.IdealSpeedup:F2}x (target {PackingComparison.TargetFractionOfIdeal:P0} of it)")
        : "");

    private static void WriteCeilingsJson(TextWriter output, Ceilings c, BenchSettings settings)
    {
        JsonObject copy = Line("ceiling", "copy_gbps", settings);
        copy["median"] = c.CopyGBps;
        copy["max"] = c.CopyBytes / (c.Copy.MinMs * 1e-3) / 1e9;
        copy["median_ms"] = c.Copy.MedianMs;
        copy["min_ms"] = c.Copy.MinMs;
        copy["bytes"] = c.CopyBytes;
        output.WriteLine(copy.ToJsonString(JsonLines.Readable));

        JsonObject gemm = Line("ceiling", "gemm_gflops", settings);
        gemm["median"] = c.GemmGFlops;
        gemm["max"] = c.GemmFlops / (c.Gemm.MinMs * 1e-3) / 1e9;
        gemm["median_ms"] = c.Gemm.MedianMs;
        gemm["min_ms"] = c.Gemm.MinMs;
        gemm["shape"] = $"{c.GemmSize}^3 fp32";
        output.WriteLine(gemm.ToJsonString(JsonLines.Readable));
    }

    /// <summary>median and min in ms; rate at the median; the fraction of the ceiling it is measured against.</summary>
    private static string ResultJson(WorkloadResult r, double? peak, double? residentAtStart, Ceilings c, BenchSettings settings)
    {
        JsonObject line = Line(r.Id, r.Metric, settings);
        line["median"] = r.Timing.MedianMs;
        line["min"] = r.Timing.MinMs;
        line["fraction_of_ceiling"] = ReportOutput.Finite(r.FractionOf(c));
        line["target_fraction"] = r.Target;
        line["rate"] = ReportOutput.Finite(r.Rate);
        line["rate_unit"] = r.RateUnit;
        line["ceiling"] = r.Against == CeilingKind.Copy ? "copy_gbps" : "gemm_gflops";
        line["work"] = r.Work;
        line["formula"] = r.Formula;
        line["shape"] = r.Shape;
        line["peak_rss_mib"] = peak is null ? null : Math.Round(peak.Value, 1);
        line["rss_at_start_mib"] = residentAtStart is null ? null : Math.Round(residentAtStart.Value, 1);
        if (r.Timing.PerRun is { } counted)
        {
            // What one step (one repetition) asked of the device; absent on the cpu backend.
            line["host_waits_per_step"] = counted.HostWaits;
            line["d2h_copies_per_step"] = counted.DeviceToHostCopies;
            line["h2d_copies_per_step"] = counted.HostToDeviceCopies;
            line["launches_per_step"] = counted.Launches;
            line["gemms_per_step"] = counted.Gemms;
        }
        if (r.Packing is { } packing)
        {
            line["real_tokens_per_s"] = ReportOutput.Finite(r.RealTokensPerSecond!.Value);
            line["padded_median"] = packing.Padded.MedianMs;
            line["padded_min"] = packing.Padded.MinMs;
            line["real_tokens"] = packing.RealTokens;
            line["padded_tokens"] = packing.PaddedTokens;
            line["speedup_vs_padded"] = ReportOutput.Finite(packing.SpeedupOver(r.Timing));
            line["ideal_speedup"] = ReportOutput.Finite(packing.IdealSpeedup);
            line["target_fraction_of_ideal"] = PackingComparison.TargetFractionOfIdeal;
        }
        if (r.Fp32 is { } fp32)
        {
            line["fp32_median"] = fp32.MedianMs;
            line["fp32_min"] = fp32.MinMs;
            line["speedup_vs_fp32"] = ReportOutput.Finite(r.SpeedupOverFp32!.Value);
        }
        return line.ToJsonString(JsonLines.Readable);
    }

    /// <summary>Formulas keep their '+' and '<' readable instead of \u002B escapes (the output is not HTML).</summary>

    private static JsonObject Line(string id, string metric, BenchSettings settings) => new()
    {
        ["id"] = id,
        ["metric"] = metric,
        ["reps"] = settings.Repetitions,
        ["quick"] = settings.Quick,
    };

    private static double? MiB(long? bytes) => bytes / (1024.0 * 1024.0);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
