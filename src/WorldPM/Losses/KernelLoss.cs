namespace WorldPM.Losses;

/// <summary>
/// A preference loss whose per-pair part is <typeparamref name="TTerm"/>, run as an ILGPU kernel on a
/// <see cref="LossAccelerator"/>: loss = sum_i w_i term(gap_i, m_i) / sum_i w_i with gap_i = chosen_i - rejected_i,
/// d loss / d chosen_i = w_i slope_i / sum w = -d loss / d rejected_i. The built-in losses are instances
/// (<see cref="PreferenceLosses"/>); a user's loss is a struct implementing <see cref="IPairLossTerm"/> and one of
/// these around it.
/// </summary>
/// <param name="name">Recorded with checkpoints (see <see cref="IPreferenceLoss.Name"/>).</param>
/// <param name="term">The per-pair loss; its fields are the kernel's parameters.</param>
public sealed class KernelLoss<TTerm>(string name, TTerm term) : IPreferenceLoss where TTerm : unmanaged, IPairLossTerm
{
    public string Name { get; } = string.IsNullOrWhiteSpace(name)
        ? throw new ArgumentException("a loss needs a name", nameof(name)) : name;

    public TTerm Term => term;

    /// <summary>The term's settings as text, e.g. "label_smoothing=0.1" (see <see cref="IPreferenceLoss.Settings"/>).</summary>
    public string Settings { get; init; } = "";

    /// <summary>Whether the term reads the pairs' margins; when false it sees 0.</summary>
    public bool UsesMargins { get; init; }

    /// <summary>The margin of every pair when the batch carries none (and <see cref="UsesMargins"/>).</summary>
    public float DefaultMargin { get; init; }

    public double Compute(LossAccelerator accelerator, PreferenceLossBatch batch, Span<float> dChosen, Span<float> dRejected)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        int pairs = batch.Pairs;
        if (!dChosen.IsEmpty && dChosen.Length != pairs)
            throw new ArgumentException($"dChosen holds {dChosen.Length} values; expected one per pair ({pairs})", nameof(dChosen));
        if (!dRejected.IsEmpty && dRejected.Length != pairs)
            throw new ArgumentException($"dRejected holds {dRejected.Length} values; expected one per pair ({pairs})", nameof(dRejected));

        var packed = new float[PairLossKernel.Slots * pairs];
        batch.Chosen.CopyTo(packed);
        batch.Rejected.CopyTo(packed.AsSpan(pairs));
        Span<float> margins = packed.AsSpan(2 * pairs, pairs), weights = packed.AsSpan(3 * pairs, pairs);
        if (!UsesMargins) margins.Clear();
        else if (batch.Margins.IsEmpty) margins.Fill(DefaultMargin);
        else batch.Margins.CopyTo(margins);
        if (batch.Weights.IsEmpty) weights.Fill(1f);
        else batch.Weights.CopyTo(weights);

        float[] outputs = accelerator.Run(term, packed, pairs);
        double total = 0, weightSum = 0;
        for (int i = 0; i < pairs; i++)
        {
            total += outputs[i];
            weightSum += weights[i];
        }
        for (int i = 0; i < pairs && !dChosen.IsEmpty; i++) dChosen[i] = (float)(outputs[pairs + i] / weightSum);
        for (int i = 0; i < pairs && !dRejected.IsEmpty; i++) dRejected[i] = (float)(-outputs[pairs + i] / weightSum);
        return total / weightSum;
    }
}
