namespace WorldPM.Cli.Tests;

/// <summary>What one in-process <c>worldpm</c> invocation returned and printed.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string[] OutputLines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>Runs <c>worldpm</c> commands in-process through <see cref="Cli.Run"/>.</summary>
public static class Worldpm
{
    public static CliResult Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = Cli.Run(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>Runs and asserts exit code 0, showing everything printed when it is not.</summary>
    public static CliResult Succeed(params string[] args)
    {
        CliResult result = Run(args);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString);
        return result;
    }
}
