using WorldPM.Training;

namespace WorldPM.Tests.Training;

public class LearningRateScheduleTests
{
    [Test]
    public void WarmupRisesLinearlyToThePeak()
    {
        var s = new LearningRateSchedule(1e-3, 10, 100);
        Assert.That(s.At(1), Is.EqualTo(1e-4).Within(1e-15));
        Assert.That(s.At(5), Is.EqualTo(5e-4).Within(1e-15));
        Assert.That(s.At(10), Is.EqualTo(1e-3).Within(1e-15));
    }

    [Test]
    public void ConstantStaysAtThePeakAfterWarmup()
    {
        var s = new LearningRateSchedule(2e-5, 10, 100);
        Assert.That(new[] { 11L, 50, 100, 500 }.Select(s.At), Is.All.EqualTo(2e-5));
    }

    [Test]
    public void CosineFallsFromPeakToFloor()
    {
        var s = new LearningRateSchedule(1.0, 0, 100, DecayKind.Cosine) { MinRatio = 0.1 };
        Assert.That(s.At(50), Is.EqualTo(0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * 0.5))).Within(1e-12));
        Assert.That(s.At(100), Is.EqualTo(0.1).Within(1e-12));
        Assert.That(s.At(200), Is.EqualTo(0.1).Within(1e-12));
    }

    [Test]
    public void WorldPMRecipeWarmsUpForATenth()
    {
        var s = LearningRateSchedule.WorldPM(3e-6, 1000);
        Assert.That(s.WarmupSteps, Is.EqualTo(100));
        Assert.That(s.At(100), Is.EqualTo(3e-6));
        Assert.That(s.At(1000), Is.EqualTo(3e-6));
    }

    [Test]
    public void StepZeroIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule(1, 1, 1).At(0));

    [Test]
    public void BadOptionsNameTheField()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainingOptions { Beta2 = 1.0 }.Validate());
        Assert.That(e!.Message, Does.Contain("Beta2"));
        e = Assert.Throws<ArgumentException>(() => new TrainingOptions { PairsPerMicroBatch = 0 }.Validate());
        Assert.That(e!.Message, Does.Contain("PairsPerMicroBatch"));
    }
}
