namespace WorldPM.Losses;

/// <summary>softplus and sigmoid in single precision, in forms that neither overflow nor cancel (kernel code: MathF
/// only, so ILGPU translates it).</summary>
internal static class LogisticMath
{
    /// <summary>log(1 + exp(z)) = max(z, 0) + log(1 + exp(-|z|)).</summary>
    public static float Softplus(float z) => MathF.Max(z, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(z)));

    /// <summary>sigmoid(z) - 1 = -sigmoid(-z), from exp(-|z|) only (no 1 - 1 cancellation for large z).</summary>
    public static float SigmoidMinusOne(float z)
    {
        float e = MathF.Exp(-MathF.Abs(z));
        return z >= 0f ? -e / (1f + e) : -1f / (1f + e);
    }
}
