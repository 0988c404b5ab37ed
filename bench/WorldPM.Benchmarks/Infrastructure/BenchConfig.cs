using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace WorldPM.Benchmarks.Infrastructure;

/// <summary>
/// The suite's configuration: short runs unless the command line names a job (<c>--job default</c> for a full
/// BenchmarkDotNet run, <c>--job dry</c> for a one-invocation smoke run), and the emulator kept to small shapes.
/// The memory diagnoser is on through <see cref="OpBenchmark"/>'s attribute.
/// </summary>
public static class BenchConfig
{
    /// <summary>The config for these command-line arguments.</summary>
    public static IConfig For(IReadOnlyCollection<string> args)
    {
        var config = ManualConfig.Create(DefaultConfig.Instance).AddFilter(new EmulatorShapeFilter());
        bool jobNamed = args.Any(arg => arg is "--job" or "-j" || arg.StartsWith("--job=", StringComparison.Ordinal));
        // ShortRun: 1 launch, 3 warm-ups, 3 iterations; enough to rank shapes and dtypes, not to quote a 1% change.
        return jobNamed ? config : config.AddJob(Job.ShortRun);
    }
}
