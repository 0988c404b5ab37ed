using BenchmarkDotNet.Attributes;

namespace WorldPM.Benchmarks.Infrastructure;

/// <summary>
/// An op family with a forward and a backward pass. The family's <see cref="Build{T}"/> allocates its buffers and
/// returns the two passes as closures over them; each benchmark runs one pass and then synchronises, so device
/// backends are timed to the end of their work, not to the end of the launch.
/// </summary>
public abstract class PassBenchmark : OpBenchmark
{
    private Passes passes = null!;

    /// <summary>The forward pass.</summary>
    [Benchmark]
    public void Forward()
    {
        passes.Forward();
        Context.Synchronize();
    }

    /// <summary>The backward pass (from the forward's saved state where the op has any).</summary>
    [Benchmark]
    public void Backward()
    {
        passes.Backward();
        Context.Synchronize();
    }

    /// <inheritdoc/>
    protected sealed override void Setup<T>()
    {
        passes = Build<T>();
        // The backward reads what the forward saved (rstd, lse, outputs): run the forward once first.
        passes.Forward();
    }

    /// <summary>Allocates the family's buffers with element type T and returns its passes.</summary>
    protected abstract Passes Build<T>() where T : unmanaged;

    /// <summary>The two passes of an op family, as closures over its buffers.</summary>
    protected sealed record Passes(Action Forward, Action Backward);
}
