namespace WorldPM.Tests.Checkpoints;

/// <summary>
/// The values of the tensors over 2 GiB that the large-checkpoint tests write and read back, and where they check
/// them. Element i is an integer in [-125, 125] scaled by a power of two that changes every 2^20 elements: every value
/// is exact in bf16 (8 significant bits), so a loaded bf16 value must equal it, and a piece landing at the wrong offset
/// shows as a wrong value.
/// </summary>
internal static class LargeTensorPattern
{
    /// <summary>131,073 x 4,096 fp32 = 2,147,500,032 bytes, just over 2^31.</summary>
    public static readonly long[] Shape = [131_073, 4_096];

    /// <summary>Free disk a test of one such tensor asks for: the file, its temp copy and room to spare.</summary>
    public const long FreeDiskNeeded = 6_000_000_000;

    /// <summary>Element <paramref name="i"/>'s value.</summary>
    public static float ValueAt(long i) => (i % 251 - 125) * ScaleAt(i);

    private static float ScaleAt(long i) => MathF.ScaleB(1f, (int)((i >> 20) % 16) - 8);

    /// <summary>Fills <paramref name="values"/> with elements <paramref name="first"/> on, as <see cref="ValueAt"/>
    /// gives them, stepping the remainder and the scale instead of dividing per element (half a billion of them).</summary>
    public static void Generate(long first, Span<float> values)
    {
        long remainder = first % 251;
        float scale = ScaleAt(first);
        for (int k = 0; k < values.Length; k++)
        {
            long i = first + k;
            if ((i & ((1 << 20) - 1)) == 0) scale = ScaleAt(i);
            values[k] = (remainder - 125) * scale;
            if (++remainder == 251) remainder = 0;
        }
    }

    /// <summary>The ends, both sides of every mapping window and of the 2^31-byte mark, and spread-out random ones.</summary>
    public static IEnumerable<long> SampledIndices(long count)
    {
        var indices = new SortedSet<long> { 0, 1, count - 2, count - 1, (1L << 31) / sizeof(float) - 1, (1L << 31) / sizeof(float) };
        const long windowElements = (64L << 20) / sizeof(float);
        for (long w = windowElements; w < count; w += windowElements)
        {
            indices.Add(w - 1);
            indices.Add(w);
        }
        var random = new Random(14);
        for (int k = 0; k < 2000; k++) indices.Add(random.NextInt64(count));
        return indices;
    }

    /// <summary>Ignores the test when <paramref name="directory"/>'s disk lacks <see cref="FreeDiskNeeded"/>.</summary>
    public static void RequireFreeDisk(string directory)
    {
        long free = new DriveInfo(directory).AvailableFreeSpace;
        if (free < FreeDiskNeeded)
            Assert.Ignore($"needs {FreeDiskNeeded / 1e9:0} GB free in {Path.GetTempPath()} for a 2.1 GB checkpoint; {free / 1e9:0.#} GB are");
    }
}
