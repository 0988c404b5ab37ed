// The `worldpm` command.
//
//   worldpm info    versions, backends and why each is (not) available, CPU threads and features
//   worldpm demo    a few ops of a reward model's head on the CPU backend, with their values
//
// Run from the repository: dotnet run --project src/WorldPM.Cli -- info
// Errors print one line, "worldpm: <what went wrong>", on stderr and exit non-zero: 2 for a bad command
// line, 1 for a failure, 3 when `demo` stops at an op the backend does not implement yet.
using System.CommandLine;
using WorldPM.Cli;

var root = new RootCommand("WorldPM: kernels and tools for training human preference (reward) models.");

var info = new Command("info", "Show the library versions, the backends of this machine and the CPU features in use.");
info.SetAction(result => InfoCommand.Run(result.InvocationConfiguration.Output));
root.Subcommands.Add(info);

var demo = new Command("demo", "Run pooling -> GELU -> reward -> Bradley-Terry loss on random hidden states (CPU).");
demo.SetAction(result => DemoCommand.Run(result.InvocationConfiguration.Output, result.InvocationConfiguration.Error));
root.Subcommands.Add(demo);

ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"worldpm: {string.Join(" ", parsed.Errors.Select(e => e.Message))} (worldpm --help lists the commands)");
    return 2;
}

try
{
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    Console.Error.WriteLine($"worldpm: {e.Message}");
    return 1;
}
