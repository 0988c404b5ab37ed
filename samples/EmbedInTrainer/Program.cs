// EmbedInTrainer: uses the WorldPM packages as another trainer would, through their public API only.
//
//  1. Creates a context on the backend WORLDPM_BACKEND names (cpu when unset).
//  2. Runs GELU, causal attention, last-token pooling and the Bradley-Terry loss, forward and backward, on buffers
//     it fills, and checks every output against its own float64 reference (Reference.cs, written here, independent
//     of the library).
//  3. Trains a tiny RewardModel for a few steps on pairs it makes up and checks that the loss goes down.
//
// Each check prints one line starting with PASS or FAIL; the exit code is 1 when any failed (2 when the program
// could not run at all), so scripts/check_package.sh and CI see the failure.
using System.Diagnostics;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Training;

namespace EmbedInTrainer;

internal static class Program
{
    private static int Main()
    {
        try
        {
            return Run();
        }
        catch (Exception e)
        {
            // A library that fails to load or a backend that is missing ends here, with the library's own message.
            Console.Error.WriteLine($"EmbedInTrainer: could not run: {e.GetType().Name}: {e.Message}");
            return 2;
        }
    }

    private static int Run()
    {
        Backend backend = BackendNames.FromEnvironment(Backend.Cpu);
        using var context = WorldPMContext.Create(backend);
        Console.WriteLine($"WorldPM native {WorldPMContext.VersionString}, backend {BackendNames.Name(context.Backend)}, " +
                          $"{context.NumThreads} threads");
        Console.WriteLine($"native library: {WorldPMContext.NativeLibraryPath}");
        // What the packaged library was built with (scripts/check_package.sh reads this line in CI, where the
        // package must carry the CUDA kernels).
        Console.WriteLine("backends built: " + string.Join(", ", new[] { Backend.Cpu, Backend.Cuda, Backend.Emu }
            .Select(WorldPMContext.QueryBackend).Where(info => info.Built).Select(info => BackendNames.Name(info.Backend))));

        var checks = new Checks();
        // The library must be the one the WorldPM.Native package put beside this program (bin/.../runtimes/
        // linux-x64/native/ for a build without a runtime identifier), not one found elsewhere on the machine.
        string libraryPath = Path.GetFullPath(WorldPMContext.NativeLibraryPath);
        checks.Expect("native-library-from-package", libraryPath.StartsWith(AppContext.BaseDirectory, StringComparison.Ordinal),
            $"loaded from {libraryPath}; expected under {AppContext.BaseDirectory}");

        if (context.Backend == Backend.Cpu) CallerOwnedOutput(context, checks);

        var ops = new OpChecks(context, checks, seed: 20261206);
        ops.Gelu(GeluKind.Tanh);
        ops.Gelu(GeluKind.Exact);
        ops.CausalAttention();
        ops.LastTokenPool();
        ops.BradleyTerryLoss();

        var clock = Stopwatch.StartNew();
        TinyTraining.Run(context, checks);
        Console.WriteLine($"training took {clock.Elapsed.TotalSeconds:F1} s");

        return checks.Finish();
    }

    /// <summary>
    /// A trainer's own arrays as the op's input and output (cpu backend): the wrapped buffers are the arrays'
    /// memory, so the result appears in the trainer's output array with no read-back.
    /// </summary>
    private static unsafe void CallerOwnedOutput(WorldPMContext context, Checks checks)
    {
        float[] x = [-3f, -1f, -0.25f, 0f, 0.5f, 2f, 4f];
        float[] y = new float[x.Length];
        using (DeviceBuffer<float> xBuffer = context.Wrap(x), yBuffer = context.Wrap(y))
        {
            fixed (float* xAddress = x, yAddress = y)
                checks.Expect("caller-owned-in-place", xBuffer.DevicePointer == (nint)xAddress && yBuffer.DevicePointer == (nint)yAddress,
                    "wrapped buffers are the trainer's arrays, not copies");
            Ops.ReluForward(context, xBuffer, yBuffer);
            context.Synchronize();
        }
        double[] expected = x.Select(v => Math.Max(0.0, v)).ToArray();
        checks.Close("caller-owned-relu-output", y, expected, atol: 0, rtol: 0);
    }
}

/// <summary>Collects PASS/FAIL lines and the exit code.</summary>
internal sealed class Checks
{
    private int passed, failed;

    public void Expect(string name, bool ok, string detail)
    {
        if (ok) ++passed; else ++failed;
        Console.WriteLine($"{(ok ? "PASS" : "FAIL")} {name}: {detail}");
    }

    /// <summary>Passes when every element of <paramref name="actual"/> is within atol + rtol |expected|.</summary>
    public void Close(string name, ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double atol, double rtol)
    {
        if (actual.Length != expected.Length)
        {
            Expect(name, false, $"{actual.Length} values, expected {expected.Length}");
            return;
        }
        double worst = 0;        // the largest error as a fraction of its tolerance: <= 1 passes
        int worstAt = -1;
        for (int i = 0; i < actual.Length; ++i)
        {
            // Floored so that an exact check (atol = rtol = 0) passes on equality instead of dividing 0 by 0.
            double tolerance = Math.Max(atol + rtol * Math.Abs(expected[i]), double.Epsilon);
            double error = Math.Abs(actual[i] - expected[i]);
            double ratio = double.IsFinite(actual[i]) ? error / tolerance : double.PositiveInfinity;
            if (ratio > worst || worstAt < 0) (worst, worstAt) = (ratio, i);
        }
        string where = worstAt < 0 ? "no values" :
            $"worst at [{worstAt}]: {actual[worstAt]:G9} vs {expected[worstAt]:G9} ({worst:F3} of the tolerance " +
            $"{atol:G2} + {rtol:G2}|x|)";
        Expect(name, worstAt >= 0 && worst <= 1, $"{actual.Length} values, {where}");
    }

    public int Finish()
    {
        // Worded so that it never reads as a test runner's closing "N passed, M failed" line.
        Console.WriteLine(failed == 0
            ? $"EmbedInTrainer: all {passed} checks PASSED"
            : $"EmbedInTrainer: {failed} of {passed + failed} checks FAILED");
        return failed == 0 ? 0 : 1;
    }
}
