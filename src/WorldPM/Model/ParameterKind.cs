namespace WorldPM.Model;

/// <summary>What a parameter is, which fixes its initial values and whether it decays.</summary>
internal enum ParameterKind
{
    /// <summary>A weight matrix or the embedding table: normal(0, 0.02), decays.</summary>
    Matrix,

    /// <summary>An RMSNorm weight: ones, no decay.</summary>
    NormWeight,

    /// <summary>A bias: zeros, no decay.</summary>
    Bias,
}
