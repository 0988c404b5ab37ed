namespace WorldPM.Cli.Tests;

public class GradNormWatchTests
{
    [Test]
    public void ANormFarAboveTheRunningAverageIsASpikeAndTrainingNormsAreNot()
    {
        var watch = new GradNormWatch();
        bool[] steady = Enumerable.Range(0, 10).Select(i => watch.Observe(1.0 + 0.1 * (i % 3))).ToArray();

        Assert.That(steady, Is.All.False);
        Assert.That(watch.Observe(50), Is.True);
        Assert.That(watch.Observe(double.NaN), Is.True, "a non-finite norm is always reported");
    }

    [Test]
    public void NoSpikeIsCalledBeforeTheAverageSettles()
    {
        var watch = new GradNormWatch();
        Assert.That(new[] { 0.01, 5.0, 100.0 }.Select(watch.Observe), Is.All.False);
    }
}

public class HeldOutSplitTests
{
    private static readonly int[] Items = Enumerable.Range(0, 40).ToArray();

    [Test]
    public void TheSameSeedHoldsOutTheSameItemsAndBothPartsKeepTheirOrder()
    {
        var (train, heldOut) = HeldOutSplit.Split(Items, 0.25, seed: 3);

        Assert.That(HeldOutSplit.Split(Items, 0.25, seed: 3).HeldOut, Is.EqualTo(heldOut));
        Assert.That(heldOut, Has.Count.EqualTo(10));
        Assert.That(train.Concat(heldOut), Is.EquivalentTo(Items));
        Assert.That(train, Is.Ordered);
        Assert.That(heldOut, Is.Ordered);
    }

    [Test]
    public void AnotherSeedHoldsOutOtherItems() =>
        Assert.That(HeldOutSplit.Split(Items, 0.25, seed: 4).HeldOut, Is.Not.EqualTo(HeldOutSplit.Split(Items, 0.25, seed: 3).HeldOut));

    [Test]
    public void AtLeastOneItemIsHeldOutAndOneKept()
    {
        Assert.That(HeldOutSplit.Split(Items, 0.001, seed: 1).HeldOut, Has.Count.EqualTo(1));
        Assert.That(HeldOutSplit.Split(Items, 0.999, seed: 1).Train, Has.Count.EqualTo(1));
    }
}

public class ByteSizeTextTests
{
    [TestCase("5GB", 5_000_000_000L)]
    [TestCase("5gb", 5_000_000_000L)]
    [TestCase("500 MB", 500_000_000L)]
    [TestCase("1.5GB", 1_500_000_000L)]
    [TestCase("2GiB", 2L * 1024 * 1024 * 1024)]
    [TestCase("10KiB", 10_240L)]
    [TestCase("20kB", 20_000L)]
    [TestCase("1TB", 1_000_000_000_000L)]
    [TestCase("4096", 4096L)]
    [TestCase("7B", 7L)]
    public void SizesWithDecimalAndBinaryUnitsParse(string text, long bytes)
    {
        Assert.That(ByteSizeText.TryParse(text, out long parsed), Is.True, text);
        Assert.That(parsed, Is.EqualTo(bytes));
    }

    [TestCase("")]
    [TestCase("GB")]
    [TestCase("5XB")]
    [TestCase("0")]
    [TestCase("0.5")]
    [TestCase("-3MB")]
    [TestCase("1e3")]
    [TestCase("99999999999TB")]
    public void OtherTextIsNotASize(string text) => Assert.That(ByteSizeText.TryParse(text, out _), Is.False, text);
}
