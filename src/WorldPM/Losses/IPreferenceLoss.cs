namespace WorldPM.Losses;

/// <summary>
/// A training objective over preference pairs: from each pair's two rewards (and its margin and weight) the loss, a
/// weighted mean over the pairs, and its gradient with respect to every reward. The trainer, the evaluator's loss
/// column and the data's margins meet here; the built-in losses are in <see cref="PreferenceLosses"/>, and a new one is
/// usually a <see cref="KernelLoss{TTerm}"/> over a user-written <see cref="IPairLossTerm"/>.
/// </summary>
public interface IPreferenceLoss
{
    /// <summary>The name a run is recorded under (a resume with another name is refused).</summary>
    string Name { get; }

    /// <summary>The loss's own settings as text ("" for none), recorded with <see cref="Name"/>.</summary>
    string Settings { get; }

    /// <summary>Whether the pairs' margins enter the loss; a loss that ignores them sees 0.</summary>
    bool UsesMargins { get; }

    /// <summary>
    /// The weighted mean loss of <paramref name="batch"/>, and (when the spans are not empty) its gradient:
    /// dChosen[i] = d loss / d chosen[i], dRejected[i] = d loss / d rejected[i].
    /// </summary>
    /// <param name="accelerator">Where ILGPU kernels run; created on its first use, owned by the caller.</param>
    double Compute(LossAccelerator accelerator, PreferenceLossBatch batch, Span<float> dChosen, Span<float> dRejected);
}
