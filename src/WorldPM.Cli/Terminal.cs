using Spectre.Console;
using WorldPM.Native;

namespace WorldPM.Cli;

/// <summary>
/// Whether standard output is a person at an interactive terminal, the one case where commands draw live
/// progress bars. Everywhere else (a pipe, a file, a test's writer, CI logs, TERM=dumb) they print plain
/// lines, because cursor movements and redraws would litter a log that a program or a person reads later.
/// </summary>
/// <remarks>
/// Under mpirun every rank's standard output is a pseudo-terminal that the launcher relays to its own output (a
/// pipe, a log file, or a terminal: a rank cannot tell which), shared with the other ranks. So a launched rank is
/// never interactive, and it must not let .NET's console set the terminal up either: on its first use, with
/// standard output a terminal, it writes the terminal's keypad-transmit string (<c>ESC[?1h ESC=</c> for xterm),
/// which mpirun relays into its output.
/// </remarks>
internal static class Terminal
{
    /// <summary>
    /// A console on standard output for live display, or null when output goes anywhere but a capable terminal.
    /// Call it before anything uses <see cref="Console"/>: in a rank of an mpirun launch it sets TERM=dumb first,
    /// so that .NET's console writes no terminal modes.
    /// </summary>
    public static IAnsiConsole? ForStandardOutput()
    {
        if (Console.IsOutputRedirected || Environment.GetEnvironmentVariable("TERM") is null or "dumb") return null;
        if (LaunchedRank())
        {
            Environment.SetEnvironmentVariable("TERM", "dumb");
            return null;
        }
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
    /// Whether mpirun (or another launcher) started this process as one rank of several, from its environment, or
    /// OpenMPI's mpirun started it alone: a world of one is not "launched" for training, but its output still goes
    /// through mpirun's pseudo-terminal (OpenMPI sets OMPI_COMM_WORLD_SIZE in every process it starts).
    /// </summary>
    private static bool LaunchedRank()
    {
        if (Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null) return true;
        try
        {
            return Communicator.Query().Launched;
        }
        catch (DllNotFoundException)
        {
            return false;  // without the native library nothing trains; the command itself will say why
        }
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
