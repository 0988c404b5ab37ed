// The `worldpm` command.
//
//   worldpm info    versions, backends and why each is (not) available, CPU threads and features
//   worldpm demo    train + evaluate a small reward model on the embedded task (CPU, no download)
//   worldpm train   train a reward model on preference data files, with checkpoints, resume and evaluation
//   worldpm eval    pairwise accuracy, loss (BT or the run's own), margin, per subset and by length, of a checkpoint on data
//   worldpm score   the reward of responses to a prompt, or of every line of a JSONL file
//   worldpm serve   a reward-model HTTP server (score/compare with dynamic batching, health, readiness, metrics)
//   worldpm bench   the reference workloads W1-W5 against this machine's copy and GEMM ceilings
//   worldpm sweep   a grid of model sizes x data sizes, held-out loss fitted as a power law of compute
//
// Run from the repository: dotnet run --project src/WorldPM.Cli -- info
// Errors print one line, "worldpm: <what went wrong>", on stderr and exit non-zero: 2 for a bad command
// line (see Cli.cs), 1 for a failure, 4 when `demo` ends below its target held-out accuracy.
// On an interactive terminal train, demo and eval draw live progress bars; piped or redirected, plain lines.
using Spectre.Console;
using WorldPM.Cli;

// The terminal is looked at before Console is first used: under mpirun that first use must find TERM=dumb.
IAnsiConsole? terminal = Terminal.ForStandardOutput();
return Cli.Run(args, Console.Out, Console.Error, terminal);
