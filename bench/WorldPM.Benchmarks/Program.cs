using BenchmarkDotNet.Running;
using WorldPM.Benchmarks.Infrastructure;

// BenchmarkDotNet suite of the WorldPM ops, one class per op family (forward and backward), on every available
// backend. Short runs by default; `--job default` for a full run. Examples:
//   dotnet run -c Release --project bench/WorldPM.Benchmarks -- --filter '*Gelu*'
//   dotnet run -c Release --project bench/WorldPM.Benchmarks -- --filter '*Attention*' --job default
//   dotnet run -c Release --project bench/WorldPM.Benchmarks -- --list flat
BenchmarkSwitcher.FromAssembly(typeof(OpBenchmark).Assembly).Run(args, BenchConfig.For(args));
