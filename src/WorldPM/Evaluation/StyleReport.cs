using WorldPM.Tokenization;

namespace WorldPM.Evaluation;

/// <summary>A bucket of pairs by their difference in one feature: the model's metrics on them and their share of all
/// pairs (how often the data puts a pair there).</summary>
public sealed record StyleBucket(string Label, PairwiseMetrics Model, double Share);

/// <summary>
/// The style report of one feature (<see cref="StyleFeature"/>) over the evaluated pairs, the model's preference read
/// against the data's:
/// <list type="bullet">
/// <item><see cref="ChosenMean"/>, <see cref="RejectedMean"/>: the feature's mean on each side.</item>
/// <item><see cref="PairsDiffering"/>: pairs whose two responses differ in the feature.</item>
/// <item><see cref="HumansPreferMore"/>: of those, the share whose chosen response has more of it: the raw labels'
/// bias (for tokens: how often people preferred the longer response).</item>
/// <item><see cref="ModelPrefersMore"/>: of those, the share where the model's reward is higher for the response with
/// more of it (a tie counts half): the model's bias. Above <see cref="HumansPreferMore"/>, the model likes the
/// feature more than the labels do.</item>
/// <item><see cref="Spearman"/>: rank correlation of the reward margin r(chosen) - r(rejected) with the feature
/// difference over all pairs (NaN when either is constant).</item>
/// <item><see cref="Buckets"/>: accuracy and mean margin by bucket of the chosen-minus-rejected difference.</item>
/// </list>
/// </summary>
public sealed record StyleFeatureReport(string Feature, double ChosenMean, double RejectedMean, int PairsDiffering,
    double HumansPreferMore, double ModelPrefersMore, double Spearman, IReadOnlyList<StyleBucket> Buckets);

/// <summary>The style-bias report: one <see cref="StyleFeatureReport"/> per <see cref="StyleFeature.All"/>.</summary>
public sealed record StyleReport(int Pairs, IReadOnlyList<StyleFeatureReport> Features)
{
    /// <summary>
    /// The report of pairs whose responses' text has the counts <paramref name="styles"/> (measured whole), given their
    /// tokenized form (untruncated response token counts) and the model's reward differences r(chosen) - r(rejected),
    /// all in the same order. Each list is read in passes, one item at a time (one pass per feature over
    /// <paramref name="styles"/>), so lists read from a token store keep memory at a few numbers per pair.
    /// </summary>
    public static StyleReport Build(IReadOnlyList<PairStyle> styles, IReadOnlyList<TokenizedPair> tokenized, IReadOnlyList<double> deltas)
    {
        ArgumentNullException.ThrowIfNull(styles);
        ArgumentNullException.ThrowIfNull(tokenized);
        ArgumentNullException.ThrowIfNull(deltas);
        if (styles.Count != tokenized.Count || styles.Count != deltas.Count)
            throw new ArgumentException($"{styles.Count} pairs' style counts, {tokenized.Count} tokenized pairs and {deltas.Count} " +
                "reward differences: one each per pair");
        int n = styles.Count;
        int[] chosenTokens = new int[n], rejectedTokens = new int[n];
        for (int i = 0; i < n; i++)
        {
            TokenizedPair p = tokenized[i];
            (chosenTokens[i], rejectedTokens[i]) = (p.ChosenResponseTokens ?? p.Chosen.Length, p.RejectedResponseTokens ?? p.Rejected.Length);
        }
        var features = new List<StyleFeatureReport>(StyleFeature.All.Count);
        foreach (StyleFeature f in StyleFeature.All)
        {
            int[] chosen = new int[n], rejected = new int[n];
            for (int i = 0; i < n; i++)
            {
                PairStyle s = styles[i];
                (chosen[i], rejected[i]) = (f.Measure(s.Chosen, chosenTokens[i]), f.Measure(s.Rejected, rejectedTokens[i]));
            }
            features.Add(Of(f, chosen, rejected, deltas));
        }
        return new StyleReport(n, features);
    }

    private static StyleFeatureReport Of(StyleFeature feature, int[] chosen, int[] rejected, IReadOnlyList<double> deltas)
    {
        int n = chosen.Length;
        int[] differing = [.. Enumerable.Range(0, n).Where(i => chosen[i] != rejected[i])];
        double humans = differing.Length == 0 ? double.NaN : differing.Count(i => chosen[i] > rejected[i]) / (double)differing.Length;
        double model = differing.Length == 0 ? double.NaN : differing.Sum(i =>
        {
            double towardsMore = chosen[i] > rejected[i] ? deltas[i] : -deltas[i];
            return towardsMore > 0 ? 1.0 : towardsMore == 0 ? 0.5 : 0.0;
        }) / differing.Length;
        int[] bucket = [.. Enumerable.Range(0, n).Select(i => feature.BucketOf(chosen[i], rejected[i]))];
        var buckets = feature.Buckets.Select((label, b) =>
        {
            var inBucket = Enumerable.Range(0, n).Where(i => bucket[i] == b).Select(i => deltas[i]).ToList();
            return new StyleBucket(label, PairwiseMetrics.FromDeltas(inBucket), n == 0 ? double.NaN : inBucket.Count / (double)n);
        }).ToList();
        double spearman = Evaluation.Spearman.Correlation(deltas, [.. Enumerable.Range(0, n).Select(i => (double)(chosen[i] - rejected[i]))]);
        return new StyleFeatureReport(feature.Name, n == 0 ? double.NaN : chosen.Average(), n == 0 ? double.NaN : rejected.Average(),
            differing.Length, humans, model, spearman, buckets);
    }
}
