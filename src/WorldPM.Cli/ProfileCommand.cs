using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using WorldPM.Native;
using WorldPM.Workloads;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm profile --backend emu</c>: runs one reference workload (W4 by default) as <c>worldpm bench</c> does and
/// counts, on the emulator, what each kernel of its last step did: launches, global-memory bytes (each thread's access,
/// no cache model), the minimum bytes its formula needs, FLOPs and arithmetic intensity; then a roofline lower bound
/// on each kernel's time on named GPUs (<see cref="Gpus"/>), and the step's total. The times are an ESTIMATE from
/// counted work and published peaks, never a measurement. GEMMs run on the CPU's BLAS under emu: their row is the
/// formula's bytes and FLOPs (cuBLASLt's would be at least those).
/// <para>
/// <c>--json</c>: one line per kernel with <c>kernel</c>, <c>launches</c>, <c>bytes_read</c>, <c>bytes_written</c>,
/// <c>min_bytes</c> (null where the kernel's launcher states none), <c>flops</c>, <c>mma_flops</c>,
/// <c>shared_bytes</c> and <c>est_ms</c> (per GPU); and a last line with <c>est_step_ms</c> per GPU and
/// <c>"estimate":true</c>.
/// </para>
/// </summary>
internal static partial class ProfileCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per kernel, then one with the step's estimated times." };
        var quick = new Option<bool>("--quick") { Description = "The workload's shrunken smoke shapes." };
        var workload = new Option<string>("--workload") { Description = "The workload to count (W1..W5).", HelpName = "W4", DefaultValueFactory = _ => "W4" };
        var command = new Command("profile",
            "Count each kernel's bytes and FLOPs on the emulator and estimate a GPU's time from them (an estimate, not a measurement).")
        {
            json, quick, workload,
        };
        command.SetAction(r => Run(r.GetValue(workload)!, r.GetValue(json), r.GetValue(quick), r.InvocationConfiguration.Output,
            BackendSelection.Of(r)));
        return command;
    }

    private static int Run(string id, bool json, bool quick, TextWriter output, Backend backend)
    {
        if (backend != Backend.Emu) throw new UsageException("profile counts on the emulator: pass --backend emu");
        IWorkload selected;
        try
        {
            selected = WorkloadCatalogue.Select([id]).Single();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--workload: {e.Message}");
        }
        using var context = WorldPMContext.Create(backend);
        var settings = new BenchSettings(1, quick, Bf16: false, CountKernels: true);
        IReadOnlyList<WorkloadResult> results = selected.Run(context, settings, new SeedSequence());
        // The workload's main part (W4: the training step); its last repetition was counted.
        WorkloadResult result = results[0];
        IReadOnlyList<KernelProfile> kernels = result.Timing.Kernels ?? [];
        if (!json)
            output.WriteLine($"worldpm profile: {result.Id} {result.Metric}, shape {result.Shape}{(quick ? " (QUICK shapes)" : "")}; " +
                "counted on the emulator; times are a roofline ESTIMATE for the named GPUs, not measurements");
        var step = new double[Gpus.Length];
        if (!json) output.WriteLine(Header());
        foreach (KernelProfile k in kernels)
        {
            double[] ms = Gpus.Select(g => EstimateMs(k, g)).ToArray();
            for (int i = 0; i < step.Length; ++i) step[i] += ms[i];
            output.WriteLine(json ? KernelJson(k, ms) : KernelRow(k, ms));
        }
        if (json)
        {
            var estimate = new JsonObject();
            for (int i = 0; i < Gpus.Length; ++i) estimate[Gpus[i].Name] = step[i];
            output.WriteLine(JsonLines.Line(new JsonObject
            {
                ["id"] = result.Id, ["quick"] = quick, ["estimate"] = true, ["est_step_ms"] = estimate,
            }));
        }
        else
        {
            output.WriteLine(Invariant($"step total (estimate): ") +
                string.Join(", ", Gpus.Select((g, i) => Invariant($"{g.Name} {step[i]:F3} ms"))));
            foreach (GpuPeaks g in Gpus) output.WriteLine($"  {g.Name}: {g.Source}");
            if (kernels.Any(k => !k.BytesCounted))
                output.WriteLine("note: this build does not count plain loads and stores (a sanitizer build): bytes are cp.async and ldmatrix only");
        }
        return 0;
    }

    /// <summary>The roofline bound: the longer of moving the bytes at peak bandwidth and doing the FLOPs at peak
    /// rate (mma FLOPs at the fp16/bf16 tensor peak except the fp32 GEMMs', the rest at the fp32 peak).</summary>
    internal static double EstimateMs(KernelProfile k, GpuPeaks g)
    {
        bool tensorCores = k.MmaInstructions > 0;
        double flopSeconds = k.MmaFlops / (tensorCores ? g.Fp16TensorFlops : g.Fp32Flops) + k.OtherFlops / g.Fp32Flops;
        return Math.Max(k.Bytes / g.BytesPerSecond, flopSeconds) * 1e3;
    }

    private static string Header() =>
        $"{"kernel",-36} {"launches",8} {"MB read",10} {"MB written",10} {"MB min",9} {"x min",6} {"MFLOP",11} {"FLOP/B",7} " +
        string.Join(" ", Gpus.Select(g => $"{g.Name + " ms",12}"));

    private static string KernelRow(KernelProfile k, double[] ms) => Invariant(
        $"{k.Kernel,-36} {k.Launches,8} {k.BytesRead / 1e6,10:F3} {k.BytesWritten / 1e6,10:F3} ") +
        (k.MinBytes > 0 ? Invariant($"{k.MinBytes / 1e6,9:F3} {(double)k.Bytes / k.MinBytes,6:F2} ") : $"{"-",9} {"-",6} ") +
        Invariant($"{k.Flops / 1e6,11:F3} {Intensity(k),7:F2} ") + string.Join(" ", ms.Select(m => Invariant($"{m,12:F4}")));

    private static string KernelJson(KernelProfile k, double[] ms)
    {
        var estimate = new JsonObject();
        for (int i = 0; i < Gpus.Length; ++i) estimate[Gpus[i].Name] = ms[i];
        return JsonLines.Line(new JsonObject
        {
            ["kernel"] = k.Kernel,
            ["launches"] = k.Launches,
            ["bytes_read"] = k.BytesRead,
            ["bytes_written"] = k.BytesWritten,
            ["min_bytes"] = k.MinBytes > 0 ? k.MinBytes : null,
            ["flops"] = k.Flops,
            ["mma_flops"] = k.MmaFlops,
            ["shared_bytes"] = k.SharedBytesRead + k.SharedBytesWritten,
            ["arithmetic_intensity"] = Intensity(k),
            ["bytes_counted"] = k.BytesCounted,
            ["est_ms"] = estimate,
        });
    }

    private static double Intensity(KernelProfile k) => k.Bytes > 0 ? (double)k.Flops / k.Bytes : 0;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
