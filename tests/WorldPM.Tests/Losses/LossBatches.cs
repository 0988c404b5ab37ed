namespace WorldPM.Tests.Losses;

/// <summary>Random pairs for the loss tests: rewards around 0 with gaps of a few units, margins in [0, 2), weights in
/// [0.1, 2).</summary>
internal sealed class LossBatches
{
    public LossBatches(int pairs, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        Chosen = [.. Enumerable.Range(0, pairs).Select(_ => (float)(2 * Normal()))];
        Rejected = [.. Enumerable.Range(0, pairs).Select(_ => (float)(2 * Normal()))];
        Margins = [.. Enumerable.Range(0, pairs).Select(_ => (float)(2 * random.NextDouble()))];
        Weights = [.. Enumerable.Range(0, pairs).Select(_ => (float)(0.1 + 1.9 * random.NextDouble()))];
    }

    public float[] Chosen { get; }

    public float[] Rejected { get; }

    public float[] Margins { get; }

    public float[] Weights { get; }

    public static double[] Wide(float[] values) => [.. values.Select(v => (double)v)];
}
