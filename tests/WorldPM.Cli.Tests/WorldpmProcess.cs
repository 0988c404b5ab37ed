using System.Diagnostics;

namespace WorldPM.Cli.Tests;

/// <summary>
/// Runs the built <c>worldpm</c> as a child process (<c>dotnet worldpm.dll</c>, copied next to the tests),
/// for what an in-process run cannot show: a process that really dies.
/// </summary>
public static class WorldpmProcess
{
    /// <summary>The exit status a process killed by SIGKILL reports (128 + 9).</summary>
    public const int KilledBySigkill = 137;

    public static CliResult Run(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        // The child inherits WORLDPM_BACKEND: under the kernel emulator the same run takes ~20x longer.
        RunWithin(TimeSpan.FromSeconds(TestBackend.IsEmulated ? 900 : 60), environment, args);

    /// <summary>As <see cref="Run"/>, for a command that legitimately runs long (a whole training run): the limit
    /// only turns a hang into a failure.</summary>
    public static CliResult RunWithin(TimeSpan limit, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using Process process = Start(environment, args);
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        return Finish(process, output, error, limit, args);
    }

    /// <summary>Starts the CLI with <paramref name="args"/> and its output redirected, for a test that acts on the
    /// running process (reads both streams as it runs, then <see cref="Finish"/>).</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "worldpm.dll");
        Assert.That(cli, Does.Exist, "the CLI is built next to the tests (project reference)");
        // The dotnet driver that started this test run sets DOTNET_HOST_PATH; from an IDE fall back to PATH.
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return Process.Start(start)!;
    }

    /// <summary>Waits up to <paramref name="limit"/> for <paramref name="process"/> to end (killed and failed
    /// after it), then its exit code and what it wrote.</summary>
    public static CliResult Finish(Process process, Task<string> output, Task<string> error, TimeSpan limit, params string[] args)
    {
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"worldpm {string.Join(' ', args)} did not finish in {limit.TotalSeconds} s");
        }
        return new CliResult(process.ExitCode, output.Result, error.Result);
    }
}
