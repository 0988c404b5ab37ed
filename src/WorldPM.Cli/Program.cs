// The `worldpm` command.
//
//   worldpm info    versions, backends and why each is (not) available, CPU threads and features
//   worldpm demo    train + evaluate a small reward model on the embedded task (CPU, no download)
//
// Run from the repository: dotnet run --project src/WorldPM.Cli -- info
// Errors print one line, "worldpm: <what went wrong>", on stderr and exit non-zero: 2 for a bad command
// line, 1 for a failure, 4 when `demo` ends below its target held-out accuracy.
using System.CommandLine;
using WorldPM.Cli;
using WorldPM.Tasks;

var root = new RootCommand("WorldPM: kernels and tools for training human preference (reward) models.");

var info = new Command("info", "Show the library versions, the backends of this machine and the CPU features in use.");
info.SetAction(result => InfoCommand.Run(result.InvocationConfiguration.Output));
root.Subcommands.Add(info);

var steps = new Option<int>("--steps") { Description = "Optimizer steps.", DefaultValueFactory = _ => new EmbeddedDemoOptions().Steps };
var seed = new Option<int>("--seed") { Description = "Seed of the task and the model.", DefaultValueFactory = _ => 1 };
var json = new Option<bool>("--json") { Description = "Print one JSON object (heldout_accuracy, steps, seconds) as the last line." };
var demo = new Command("demo", "Train and evaluate a small reward model on the embedded task (CPU, no download).") { steps, seed, json };
demo.SetAction(result => DemoCommand.Run(result.InvocationConfiguration.Output,
    result.GetValue(steps), result.GetValue(seed), result.GetValue(json)));
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
