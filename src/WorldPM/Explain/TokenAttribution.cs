using WorldPM.Model;

namespace WorldPM.Explain;

/// <summary>Per-token attributions from element-wise ones over the input embeddings, as units.</summary>
internal static class TokenAttribution
{
    /// <summary>
    /// Token t's value: the sum over the hidden dimension of <paramref name="difference"/>[t, c] x
    /// <paramref name="gradient"/>[t, c], the first row of [B, T, hidden] buffers (the sequence itself).
    /// </summary>
    public static double[] Dot(ExplainedSequence sequence, int hidden, Func<int, double> difference, IReadOnlyList<double> gradient)
    {
        var values = new double[sequence.Ids.Length];
        for (int t = 0; t < values.Length; t++)
        {
            double sum = 0;
            for (int c = 0; c < hidden; c++) sum += difference(t * hidden + c) * gradient[t * hidden + c];
            values[t] = sum;
        }
        return values;
    }

    /// <summary>One unit per token of <paramref name="sequence"/> with its value.</summary>
    public static List<AttributionUnit> Units(ExplainedSequence sequence, IReadOnlyList<double> values) =>
        [.. sequence.Tokens.Select((t, i) => new AttributionUnit(t.Part, t.Turn, t.Start, t.End, t.Text, [t.Id], values[i], null))];

    /// <summary>The rewards and input gradients of <paramref name="ids"/> alone.</summary>
    public static InputGradients Of(RewardModel model, int[] ids) =>
        model.RewardInputGradients(SequenceBatch.FromSequences(model.Config, [ids]));
}
