namespace WorldPM.Evaluation;

/// <summary>Pairwise accuracy, mean Bradley-Terry loss and mean reward margin over a set of pairs.</summary>
public sealed record PairwiseMetrics(int Pairs, double Accuracy, double Loss, double Margin)
{
    /// <summary>Metrics of reward differences r(chosen) - r(rejected); ties count as half right.</summary>
    public static PairwiseMetrics FromDeltas(IReadOnlyCollection<double> deltas)
    {
        if (deltas.Count == 0) return new PairwiseMetrics(0, double.NaN, double.NaN, double.NaN);
        double correct = deltas.Sum(d => d > 0 ? 1.0 : d == 0 ? 0.5 : 0.0);
        return new PairwiseMetrics(deltas.Count, correct / deltas.Count, deltas.Average(BradleyTerry.Loss), deltas.Average());
    }
}

/// <summary>
/// An evaluation: overall metrics, per subset/category, and the length-bias split: accuracy on the
/// pairs whose chosen response is the shorter one vs the longer one (a model that prefers length
/// scores high on one and low on the other), and on those of equal length, so every pair is in one of
/// the three. Lengths are the responses' untruncated tokens (<see cref="WorldPM.Tokenization.TokenizedPair.ChosenLengthOrder"/>).
/// </summary>
public sealed record EvaluationReport(
    PairwiseMetrics Overall,
    IReadOnlyDictionary<string, PairwiseMetrics> BySubset,
    PairwiseMetrics ChosenShorter,
    PairwiseMetrics ChosenLonger,
    PairwiseMetrics SameLength);
