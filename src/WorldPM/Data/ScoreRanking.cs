namespace WorldPM.Data;

/// <summary>Pairs mined from scores: every two items whose scores differ by more than the margin, higher first.</summary>
internal static class ScoreRanking
{
    /// <summary>
    /// Calls <paramref name="add"/> with (higher, lower) for every two items of one group whose
    /// scores differ by more than <see cref="DataLoadOptions.MinScoreMargin"/>; the others count as ties.
    /// </summary>
    public static void Pairs<T>(IReadOnlyList<T> group, Func<T, double> score, PairCollector collector, Action<T, T> add)
    {
        for (var i = 0; i < group.Count; i++)
        {
            for (var j = i + 1; j < group.Count; j++)
            {
                var difference = score(group[i]) - score(group[j]);
                if (Math.Abs(difference) <= collector.Options.MinScoreMargin)
                {
                    collector.Tie();
                }
                else if (difference > 0)
                {
                    add(group[i], group[j]);
                }
                else
                {
                    add(group[j], group[i]);
                }
            }
        }
    }
}
