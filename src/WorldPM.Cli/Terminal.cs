using Spectre.Console;

namespace WorldPM.Cli;

/// <summary>
/// Whether standard output is a person at an interactive terminal, the one case where commands draw live
/// progress bars. Everywhere else (a pipe, a file, a test's writer, CI logs, TERM=dumb) they print plain
/// lines, because cursor movements and redraws would litter a log that a program or a person reads later.
/// </summary>
internal static class Terminal
{
    /// <summary>A console on standard output for live display, or null when output goes anywhere but a capable terminal.</summary>
    public static IAnsiConsole? ForStandardOutput()
    {
        if (Console.IsOutputRedirected || Environment.GetEnvironmentVariable("TERM") is null or "dumb") return null;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Out),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            // Spectre's own detection also says "not interactive" on CI runners; keep it.
            Interactive = InteractionSupport.Detect,
        });
        return console.Profile.Capabilities is { Ansi: true, Interactive: true } ? console : null;
    }
}
