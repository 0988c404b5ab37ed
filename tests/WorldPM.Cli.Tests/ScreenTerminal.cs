using Spectre.Console;

namespace WorldPM.Cli.Tests;

/// <summary>
/// An interactive, ANSI-capable terminal whose screen is a string: what <c>worldpm</c> draws for a person,
/// captured. Wide, so that a progress line is never cut to the width of a real window.
/// </summary>
public sealed class ScreenTerminal
{
    private readonly StringWriter _screen = new();

    public ScreenTerminal()
    {
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(_screen),
        });
        Console.Profile.Width = 200;
        // Fixed, as Terminal.ForStandardOutput fixes a real one: left unset, the height is read again (through
        // Console.WindowHeight or `tput`) at every redraw of the live bar, racily on a loaded machine.
        Console.Profile.Height = 50;
    }

    public IAnsiConsole Console { get; }

    /// <summary>Everything written to the terminal, escape sequences included.</summary>
    public string Text => _screen.ToString();

    /// <summary>Runs <c>worldpm</c> in-process with this terminal as its interactive stdout (plain output to the result).</summary>
    public CliResult Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = Cli.Run(args, output, error, Console);
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
