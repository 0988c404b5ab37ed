using WorldPM.Evaluation;

namespace WorldPM.Cli.Tests;

/// <summary>The line under an evaluation's overall accuracy: its 95 % interval and how it stands to chance.</summary>
public class AccuracyIntervalLineTests
{
    // Bounds computed apart from the code under test (Wilson's formula with z = 1.96, in a calculator) and rounded to 0.1 %.
    [TestCase(234, 0.52, "accuracy 95 % interval 45.6 % to 58.3 % (Wilson): within noise of chance")]
    [TestCase(1000, 0.60, "accuracy 95 % interval 56.9 % to 63.0 % (Wilson): above chance")]
    [TestCase(1000, 0.40, "accuracy 95 % interval 37.0 % to 43.1 % (Wilson): below chance")]
    public void SaysWhereTheAccuracyStandsToChance(int pairs, double accuracy, string expected)
    {
        string? line = ReportOutput.IntervalLine(new PairwiseMetrics(pairs, accuracy, 0.69, 0.0));

        Assert.That(line?.Trim(), Does.StartWith(expected));
    }

    [Test]
    public void NoPairsNoLine() => Assert.That(ReportOutput.IntervalLine(PairwiseMetrics.FromDeltas([])), Is.Null);
}
