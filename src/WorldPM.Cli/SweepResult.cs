using WorldPM.Model;

namespace WorldPM.Cli;

/// <summary>
/// What a finished sweep run measured: its parameters, the held-out evaluations over its steps, and its training
/// compute. Compute is C = 6·N·D with N the non-embedding parameters and D the tokens trained on: a matrix multiply
/// costs 2 FLOPs per weight per token forward and twice that backward; the embedding table is a lookup, not a
/// multiply, so its parameters are left out (they would swamp N for small models with a large vocabulary).
/// </summary>
internal sealed record SweepResult(SweepRun Run, ModelConfig Config, IReadOnlyList<SweepPoint> Curve)
{
    public const double FlopsPerParameterToken = 6;

    public double NonEmbeddingParameters => ModelMemory.ParameterCount(Config) - ModelMemory.Components(Config).Embedding;

    public double TotalParameters => ModelMemory.ParameterCount(Config);

    /// <summary>The evaluation at the run's last step.</summary>
    public SweepPoint Final => Curve[^1];

    public double Flops(SweepPoint point) => FlopsPerParameterToken * NonEmbeddingParameters * point.Tokens;

    public double TrainingFlops => Flops(Final);
}
