using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;

namespace WorldPM.Benchmarks.Infrastructure;

/// <summary>
/// Drops every emulator case but the small shape: the emulator runs CUDA kernels thread by thread on the CPU, and
/// a realistic shape would take minutes per invocation while measuring nothing about a GPU.
/// </summary>
public sealed class EmulatorShapeFilter : IFilter
{
    /// <inheritdoc/>
    public bool Predicate(BenchmarkCase benchmarkCase)
    {
        var parameters = benchmarkCase.Parameters;
        bool emulation = parameters[nameof(OpBenchmark.Backend)] is BackendCase { IsEmulation: true };
        bool small = parameters[nameof(OpBenchmark.Shape)] is ShapeCase { IsSmall: true };
        return !emulation || small;
    }
}
