namespace WorldPM.Evaluation;

/// <summary>
/// The check every command that reports rewards makes before it reports them: a NaN or infinite reward is an error
/// naming what was scored, never a number in a table, an accuracy of 0 % or a JSON null.
/// </summary>
public static class FiniteRewards
{
    /// <summary>Throws an <see cref="InvalidDataException"/> naming the first non-finite reward's item.</summary>
    /// <param name="rewards">The rewards in the order of the items scored.</param>
    /// <param name="item">Names item i for the message, e.g. "the chosen response of pair 3".</param>
    public static void Require(ReadOnlySpan<float> rewards, Func<int, string> item)
    {
        ArgumentNullException.ThrowIfNull(item);
        for (int i = 0; i < rewards.Length; i++)
            if (!float.IsFinite(rewards[i]))
                throw new InvalidDataException($"the model gave a {Describe(rewards[i])} reward for {item(i)}: its weights hold " +
                    "non-finite values or its activations overflow (retry with --precision f32 if it ran in f16)");
    }

    private static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+infinite" : "-infinite";
}
