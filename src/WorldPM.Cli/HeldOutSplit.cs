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
        var (train, held) = Indices(items.Count, fraction, seed);
        return (train.Select(i => items[i]).ToList(), held.Select(i => items[i]).ToList());
    }

    /// <summary>
    /// The indices of <see cref="Split"/>'s two parts for <paramref name="count"/> items, each in increasing order: a
    /// permutation of the indices alone, so that a token store splits without reading a pair.
    /// </summary>
    public static (int[] Train, int[] HeldOut) Indices(int count, double fraction, int seed)
    {
        if (count < 2)
            throw new InvalidDataException($"--eval-fraction needs at least 2 pairs to split; the data has {count}");
        int heldOut = Math.Clamp((int)Math.Round(fraction * count), 1, count - 1);
        int[] order = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(order);
        var held = new bool[count];
        foreach (int i in order.AsSpan(0, heldOut)) held[i] = true;
        return (Enumerable.Range(0, count).Where(i => !held[i]).ToArray(), Enumerable.Range(0, count).Where(i => held[i]).ToArray());
    }
}
