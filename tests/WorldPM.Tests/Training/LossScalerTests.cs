using WorldPM.Checkpoints;
using WorldPM.Training;

namespace WorldPM.Tests.Training;

public class LossScalerTests
{
    [Test]
    public void AnOverflowHalvesTheScaleAndRestartsTheCount()
    {
        var scaler = new LossScaler(dynamic: true, initialScale: 1024, growthInterval: 5);
        scaler.Update(overflow: false);
        scaler.Update(overflow: true);
        Assert.That(scaler.Scale, Is.EqualTo(512f));
        Assert.That(scaler.CleanSteps, Is.Zero);
    }

    [Test]
    public void TheScaleDoublesAfterGrowthIntervalCleanStepsInARow()
    {
        var scaler = new LossScaler(dynamic: true, initialScale: 1024, growthInterval: 3);
        scaler.Update(false);
        scaler.Update(false);
        Assert.That(scaler.Scale, Is.EqualTo(1024f));
        scaler.Update(false);
        Assert.That(scaler.Scale, Is.EqualTo(2048f));
        Assert.That(scaler.CleanSteps, Is.Zero);
    }

    [Test]
    public void TheScaleNeverFallsBelowItsFloor()
    {
        var scaler = new LossScaler(dynamic: true, initialScale: 1, growthInterval: 3);
        for (int i = 0; i < 100; i++) scaler.Update(overflow: true);
        Assert.That(scaler.Scale, Is.EqualTo(LossScaler.MinScale));
    }

    [Test]
    public void AStaticScalerStaysAtOne()
    {
        var scaler = new LossScaler(dynamic: false, initialScale: 65536, growthInterval: 1);
        scaler.Update(true);
        scaler.Update(false);
        scaler.Update(false);
        Assert.That(scaler.Scale, Is.EqualTo(1f));
    }

    [Test]
    public void SaveAndRestoreKeepTheExactState()
    {
        var scaler = new LossScaler(dynamic: true, initialScale: 3e5f, growthInterval: 7);
        scaler.Update(true);
        scaler.Update(false);
        scaler.Update(false);
        var scalars = new TrainingScalars();
        scaler.Save(scalars);

        var restored = new LossScaler(dynamic: true, initialScale: 65536, growthInterval: 7);
        restored.Restore(scalars);

        Assert.That(BitConverter.SingleToInt32Bits(restored.Scale), Is.EqualTo(BitConverter.SingleToInt32Bits(1.5e5f)));
        Assert.That(restored.CleanSteps, Is.EqualTo(2));
    }
}
