namespace WorldPM.Cli;

/// <summary>Splits items into training and held-out parts, the held-out ones drawn by a seeded shuffle.</summary>
internal static class HeldOutSplit
{
    /// <summary>
    /// round(<paramref name="fraction"/> × count) items (at least 1, leaving at least 1 to train on) held out,
    /// chosen from <paramref name="seed"/> alone; both parts keep the items' original order.
    /// </summary>
    public static (List<T> Train, List<T> HeldOut) Split<T>(IReadOnlyList<T> items, double fraction, int seed)
    {
        if (items.Count < 2)
            throw new InvalidDataException($"--eval-fraction needs at least 2 pairs to split; the data has {items.Count}");
        int heldOut = Math.Clamp((int)Math.Round(fraction * items.Count), 1, items.Count - 1);
        int[] order = Enumerable.Range(0, items.Count).ToArray();
        new Random(seed).Shuffle(order);
        var held = order.Take(heldOut).ToHashSet();
        return (
            Enumerable.Range(0, items.Count).Where(i => !held.Contains(i)).Select(i => items[i]).ToList(),
            Enumerable.Range(0, items.Count).Where(held.Contains).Select(i => items[i]).ToList());
    }
}
