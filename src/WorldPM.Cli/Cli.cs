using System.CommandLine;
using System.Text.RegularExpressions;
using Spectre.Console;
using WorldPM.Tasks;

namespace WorldPM.Cli;

/// <summary>
/// The <c>worldpm</c> command line, callable in-process: <see cref="Run"/> parses, runs one command and
/// returns its exit code, writing to the writers it is given. Exit codes: 0 success; 2 a bad command line
/// (parse errors, values out of range, paths that do not exist, unknown tokenizer, conflicting options);
/// 1 a failure while working (unreadable data or config, a checkpoint that does not fit); 4 <c>demo</c>
/// below its target; 130 (SIGINT) or 143 (SIGTERM) when a signal stopped the preparation of data (prepare, or raw data in train and eval)
/// (<see cref="CommandInterruptedException"/>). Every error is one line, <c>worldpm: ...</c>, on the error writer; never a stack trace.
/// Given a <c>terminal</c> (stdout is an interactive terminal, see <see cref="Terminal"/>), train, demo and eval
/// draw live progress bars on it; without one they print plain lines.
/// </summary>
public static class Cli
{
    public const int Usage = 2;
    public const int Failure = 1;

    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(args, output, error, terminal: null);

    public static int Run(string[] args, TextWriter output, TextWriter error, IAnsiConsole? terminal)
    {
        ArgumentNullException.ThrowIfNull(args);
        ParseResult parsed = Root(terminal).Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
        {
            string messages = string.Join(" ", parsed.Errors.Select(e => WithoutTypeName(e.Message)));
            error.WriteLine($"worldpm: {OneLine(messages)} (--help lists the options)");
            return Usage;
        }
        if (UnknownOption(parsed) is { } unknown)
        {
            error.WriteLine($"worldpm: unknown option '{unknown}' for '{parsed.CommandResult.Command.Name}' (--help lists the options)");
            return Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            error.WriteLine($"worldpm: {OneLine(e.Message)}");
            return Usage;
        }
        catch (CommandInterruptedException e)
        {
            error.WriteLine($"worldpm: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e)
        {
            error.WriteLine($"worldpm: {OneLine(e.Message)}");
            return Failure;
        }
    }

    private static RootCommand Root(IAnsiConsole? terminal)
    {
        var root = new RootCommand("WorldPM: kernels and tools for training human preference (reward) models.");
        root.Options.Add(BackendSelection.Create());

        var info = new Command("info", "Show the library versions, the backends of this machine and the CPU features in use.");
        info.SetAction(result => InfoCommand.Run(result.InvocationConfiguration.Output));
        root.Subcommands.Add(info);

        var steps = new Option<int>("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => new EmbeddedDemoOptions().Steps };
        var seed = new Option<int>("--seed") { Description = "Seed of the task and the model.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (heldout_accuracy, steps, seconds) as the last line." };
        var demo = new Command("demo", "Train and evaluate a small reward model on the embedded task (CPU, no download).") { steps, seed, json };
        demo.SetAction(result => DemoCommand.Run(result.InvocationConfiguration.Output,
            result.GetValue(steps), result.GetValue(seed), result.GetValue(json), terminal, BackendSelection.Of(result)));
        root.Subcommands.Add(demo);

        root.Subcommands.Add(TrainCommand.Create(terminal));
        root.Subcommands.Add(EvalCommand.Create(terminal));
        root.Subcommands.Add(PrepareCommand.Create(terminal));
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(ExplainCommand.Create(terminal));
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(PlotCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ProfileCommand.Create());
        root.Subcommands.Add(SweepCommand.Create());
        return root;
    }

    /// <summary>
    /// A token that looks like an option but was taken as a value of a command's argument (DATA accepts one or more
    /// paths, so the parser binds a misspelt flag to it): the first such token that is not an existing path.
    /// </summary>
    private static string? UnknownOption(ParseResult parsed) =>
        parsed.CommandResult.Children.OfType<System.CommandLine.Parsing.ArgumentResult>()
            .SelectMany(argument => argument.Tokens)
            .Select(token => token.Value)
            .FirstOrDefault(value => value.Length > 1 && value[0] == '-' && !File.Exists(value) && !Directory.Exists(value));

    /// <summary>"Cannot parse argument 'abc' for option '--lr' as expected type 'System.Nullable`1[System.Double]'": the .NET type name tells a user nothing.</summary>
    private static string WithoutTypeName(string message) => Regex.Replace(message, @" as expected type '[^']*'", "");

    private static string OneLine(string message) =>
        string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
