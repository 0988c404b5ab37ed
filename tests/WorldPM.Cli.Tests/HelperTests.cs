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
