using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// How a <see cref="RewardModel"/> stores its working weights, activations and gradients. Every op computes in
/// fp32 whatever the storage; the fp32 master weights (<see cref="Parameter.Value"/>), the optimizer moments and
/// the rewards and loss stay fp32 in every mode.
/// </summary>
public enum Precision
{
    /// <summary>Everything fp32: the working weights are the master weights.</summary>
    F32,

    /// <summary>IEEE half storage (5 exponent bits): training needs the dynamic loss scaler to keep small
    /// gradients from flushing to zero.</summary>
    F16,

    /// <summary>bfloat16 storage (fp32's exponent range, 8 significant bits): no loss scaling needed.</summary>
    BF16,
}

/// <summary>The element type of each <see cref="Precision"/>.</summary>
public static class PrecisionExtensions
{
    /// <summary>The dtype the model stores working weights, activations and gradients in.</summary>
    public static DType StorageType(this Precision precision) => precision switch
    {
        Precision.F32 => DType.F32,
        Precision.F16 => DType.F16,
        Precision.BF16 => DType.BF16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "not a WorldPM precision"),
    };
}
