using WorldPM.Evaluation;
using WorldPM.Model;

namespace WorldPM.Explain;

/// <summary>
/// Gradient x input: token t's attribution is the sum over the hidden dimension of its embedding times d reward /
/// d that embedding, from one forward and one backward. The first-order share of each token; cheap, but blind to
/// what a pre-norm layer makes of an embedding's scale (RMSNorm ignores it), so it can understate tokens the
/// model reads only through attention.
/// </summary>
public static class GradientTimesInput
{
    public static Attribution Explain(RewardModel model, ExplainedSequence sequence)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequence);
        InputGradients x = TokenAttribution.Of(model, sequence.Ids);
        FiniteRewards.Require(x.Rewards, _ => "the response");
        double[] values = TokenAttribution.Dot(sequence, model.Config.HiddenSize, i => x.Inputs[i],
            Array.ConvertAll(x.Gradients, g => (double)g));
        return new Attribution(AttributionMethods.GradientTimesInput, 0, x.Rewards[0], TokenAttribution.Units(sequence, values), null);
    }
}
