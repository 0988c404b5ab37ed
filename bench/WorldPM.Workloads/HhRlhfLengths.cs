namespace WorldPM.Workloads;

/// <summary>
/// How long real preference data is: the histogram of the sequence lengths of the hh-rlhf test splits
/// (helpful-base and harmless-base, 4642 pairs, both sides of each), encoded with the built-in byte tokenizer and
/// chat template and cut prompt-first to 256 tokens as W4's model takes them, in 16 buckets of 16 tokens (1-16 ..
/// 241-256). Measured once from the data; only these counts are kept. The last bucket holds the sequences the cut
/// shortened, which is why it is the largest.
/// </summary>
public static class HhRlhfLengths
{
    /// <summary>Sequences per bucket of 16 tokens, shortest first.</summary>
    private static readonly int[] Counts = [0, 14, 64, 134, 199, 263, 313, 345, 356, 346, 384, 412, 429, 421, 460, 5144];

    /// <summary>The longest length the histogram covers.</summary>
    public const int MaxLength = 256;

    /// <summary><paramref name="count"/> lengths drawn from the histogram (a bucket by its count, then a length uniform
    /// in it), scaled to at most <paramref name="longest"/> tokens (a quick run's shrunken shapes).</summary>
    public static int[] Sample(int count, int longest, int seed)
    {
        var random = new Random(seed);
        int total = Counts.Sum();
        var lengths = new int[count];
        for (int i = 0; i < count; i++)
        {
            int pick = random.Next(total), bucket = 0;
            while (pick >= Counts[bucket]) pick -= Counts[bucket++];
            int length = bucket * 16 + 1 + random.Next(16);
            lengths[i] = Math.Max(1, (int)((long)length * longest / MaxLength));
        }
        return lengths;
    }
}
