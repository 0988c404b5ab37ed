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
        if (console.Profile.Capabilities is not { Ansi: true, Interactive: true }) return null;
        PinSize(console);
        return console;
    }

    /// <summary>
    /// Fixes the console's size at what it reads now. Unset, Spectre reads the size again at every redraw (through
    /// Console.WindowHeight, or by running `tput` when that says 0), and a live display whose height reads differently
    /// between two looks in one redraw crops more lines than it has and throws on its refresh thread, which ends the
    /// process. A bar is one line, so a height that reads below 2 is taken as the usual 24.
    /// </summary>
    public static void PinSize(IAnsiConsole console)
    {
        int height = console.Profile.Height, width = console.Profile.Width;
        console.Profile.Height = height >= 2 ? height : 24;
        console.Profile.Width = width >= 20 ? width : 80;
    }
}
