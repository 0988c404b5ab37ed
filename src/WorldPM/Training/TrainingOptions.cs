using WorldPM.Losses;

namespace WorldPM.Training;

/// <summary>
/// Hyperparameters of a training run. Defaults follow the WorldPM recipe (lr 3e-6, weight decay 0.1,
/// 10% warmup then constant, usual Adam betas, gradient clipping at 1.0); small models on the
/// embedded task want a far larger learning rate (see the CLI's demo).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Pairs per micro-batch (each pair is two sequences in the same batch).</summary>
    public int PairsPerMicroBatch { get; init; } = 8;

    /// <summary>Micro-batches whose gradients are summed before one optimizer step.</summary>
    public int AccumulationSteps { get; init; } = 1;

    /// <summary>A token budget per micro-batch (per rank, data parallel) instead of <see cref="PairsPerMicroBatch"/>: as
    /// many consecutive pairs as fit (see <see cref="Model.BatchSizing"/>; a pair longer than the budget is an error),
    /// or null for the pair count.</summary>
    public int? MaxTokensPerMicroBatch { get; init; }

    /// <summary>How a micro-batch's sequences are laid out: packed (the default; only real tokens cost work) or padded
    /// to the longest (for comparison).</summary>
    public Model.SequenceLayout Layout { get; init; } = Model.SequenceLayout.Packed;

    /// <summary>The micro-batches' sizing: <see cref="PairsPerMicroBatch"/> or the token budget, and the layout.</summary>
    public Model.BatchSizing MicroBatches => new(PairsPerMicroBatch, MaxTokensPerMicroBatch, Layout);

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 3e-6;

    /// <summary>Decoupled weight decay (not applied to norms and biases).</summary>
    public double WeightDecay { get; init; } = 0.1;

    /// <summary>Adam first-moment decay.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam second-moment decay.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam epsilon.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Global gradient-norm clip; 0 disables clipping.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Fraction of the optimizer steps spent warming up.</summary>
    public double WarmupFraction { get; init; } = 0.1;

    /// <summary>Decay after warmup.</summary>
    public DecayKind Decay { get; init; } = DecayKind.Constant;

    /// <summary>Seed of the weight initialisation and of the data order.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The loss scale an fp16 model starts with (<see cref="LossScaler"/>; fp32 and bf16 use 1).</summary>
    public double InitialLossScale { get; init; } = 65536;

    /// <summary>Finite fp16 steps in a row after which the loss scale doubles.</summary>
    public long LossScaleGrowthInterval { get; init; } = 2000;

    /// <summary>Recompute each decoder layer's activations in the backward instead of keeping them
    /// (<see cref="Model.RewardModel.RecomputeActivations"/>): less activation memory, about one more forward per step,
    /// bitwise the same training.</summary>
    public bool RecomputeActivations { get; init; }

    /// <summary>The objective (<see cref="PreferenceLosses"/> by name, or a user's <see cref="IPreferenceLoss"/>). The
    /// default Bradley-Terry runs as the native fused op; any other loss runs on the trainer's ILGPU accelerator.</summary>
    public IPreferenceLoss Loss { get; init; } = PreferenceLosses.BradleyTerry;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public void Validate()
    {
        static void Require(bool ok, string name, object value, string rule)
        {
            if (!ok) throw new ArgumentException($"training option {name} is {value}; {rule}", name);
        }
        Require(Loss is not null, nameof(Loss), "null", "it must be a loss (PreferenceLosses names the built-in ones)");
        Require(PairsPerMicroBatch >= 1, nameof(PairsPerMicroBatch), PairsPerMicroBatch, "it must be at least 1");
        Require(AccumulationSteps >= 1, nameof(AccumulationSteps), AccumulationSteps, "it must be at least 1");
        Require(MaxTokensPerMicroBatch is null or >= 1, nameof(MaxTokensPerMicroBatch), MaxTokensPerMicroBatch!,
            "it must be at least 1 (or null: PairsPerMicroBatch pairs)");
        Require(Enum.IsDefined(Layout), nameof(Layout), Layout, "it must be Packed or Padded");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "it must be positive");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "it must be >= 0");
        Require(Beta1 is >= 0 and < 1, nameof(Beta1), Beta1, "it must be in [0, 1)");
        Require(Beta2 is >= 0 and < 1, nameof(Beta2), Beta2, "it must be in [0, 1)");
        Require(Epsilon > 0, nameof(Epsilon), Epsilon, "it must be positive");
        Require(MaxGradNorm >= 0 && double.IsFinite(MaxGradNorm), nameof(MaxGradNorm), MaxGradNorm, "it must be >= 0");
        Require(WarmupFraction is >= 0 and <= 1, nameof(WarmupFraction), WarmupFraction, "it must be in [0, 1]");
        Require(float.IsFinite((float)InitialLossScale) && InitialLossScale >= LossScaler.MinScale, nameof(InitialLossScale),
            InitialLossScale, $"it must be a finite float >= {LossScaler.MinScale}");
        Require(LossScaleGrowthInterval >= 1, nameof(LossScaleGrowthInterval), LossScaleGrowthInterval, "it must be at least 1");
    }
}
