namespace WorldPM.Training;

/// <summary>
/// The deterministic order in which a run visits its training pairs: epoch after epoch, each a fresh
/// permutation drawn from (seed, epoch). Position p is a pure function of (seed, count, p), so a resumed
/// run that restores its position sees exactly the pairs an uninterrupted run would.
/// </summary>
public sealed class DataOrder
{
    private readonly int _seed;
    private readonly int _count;
    private long _cachedEpoch = -1;
    private int[] _permutation = [];

    public DataOrder(int seed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _seed = seed;
        _count = count;
    }

    /// <summary>The index of the pair at position <paramref name="position"/> (0-based, across epochs).</summary>
    public int this[long position]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(position);
            long epoch = position / _count;
            if (epoch != _cachedEpoch)
            {
                _permutation = Permutation(epoch);
                _cachedEpoch = epoch;
            }
            return _permutation[position % _count];
        }
    }

    // Fisher-Yates with System.Random seeded from (seed, epoch): a seeded Random(int) gives the same
    // sequence on every .NET version, and the seed mix is our own (HashCode is randomised per process).
    private int[] Permutation(long epoch)
    {
        int[] order = Enumerable.Range(0, _count).ToArray();
        ulong mixed = unchecked((ulong)_seed * 0x9E3779B97F4A7C15UL ^ (ulong)epoch * 0xBF58476D1CE4E5B9UL);
        var rng = new Random((int)(mixed >> 33));
        for (int i = _count - 1; i > 0; --i)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
