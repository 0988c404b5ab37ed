using System.Diagnostics;

namespace WorldPM.Tests;

/// <summary>Runs a program the tests use as an independent reference (node, npm, python3) and collects its output.</summary>
internal static class ChildProcess
{
    /// <summary>Runs <paramref name="program"/> to its end; killed (with its children) and a <see cref="TimeoutException"/>
    /// past <paramref name="timeout"/>, an <see cref="InvalidOperationException"/> when it cannot start.</summary>
    public static (int Exit, string Stdout, string Stderr) Run(string program, IEnumerable<string> arguments, string workingDirectory,
        TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Cannot run {program} (is it installed and on PATH?): {e.Message}", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{program} ran past {timeout.TotalSeconds} s.");
            }
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>The text on one line, for a skip or failure reason.</summary>
    public static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
}
