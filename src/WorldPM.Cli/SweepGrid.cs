namespace WorldPM.Cli;

/// <summary>
/// The runs of a sweep: every model size trained for every step count (the data size: each step takes the same number
/// of new pairs, so a longer run sees proportionally more data), with one recipe. Runs go by step count, then by size,
/// so that an interrupted sweep has its short runs for every size first.
/// </summary>
internal sealed record SweepGrid(IReadOnlyList<SweepModel> Models, IReadOnlyList<long> Steps)
{
    /// <summary>The <c>--quick</c> grid: 4 sizes from 3.7 k to 153 k non-embedding parameters (41×) by 3 data sizes,
    /// a few minutes on 2 cores (docs/sweep.md has the measured time).</summary>
    public static readonly SweepGrid Quick = new([new(16, 1), new(32, 2), new(48, 2), new(64, 3)], [30, 60, 120]);

    /// <summary>The default grid: 5 sizes from 3.7 k to 805 k non-embedding parameters (217×) by 4 data sizes.</summary>
    public static readonly SweepGrid Default = new([new(16, 1), new(32, 2), new(64, 2), new(96, 3), new(128, 4)], [60, 120, 240, 480]);

    public IEnumerable<(SweepModel Model, long Steps)> Runs =>
        Steps.Order().SelectMany(steps => Models.Select(model => (model, steps)));
}
