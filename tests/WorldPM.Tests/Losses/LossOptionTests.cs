using WorldPM.Losses;
using WorldPM.Training;

namespace WorldPM.Tests.Losses;

/// <summary>Bad loss options are refused naming the argument.</summary>
public class LossOptionTests
{
    [Test]
    public void AnUnknownNameIsRefusedNamingTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => PreferenceLosses.Create("focal"));
        Assert.That(e!.ParamName, Is.EqualTo("name"));
        Assert.That(e.Message, Does.StartWith("unknown loss 'focal'; the losses are bt, bt-margin, bt-smooth, hinge"));
    }

    [TestCase(-0.1)]
    [TestCase(0.5)]
    [TestCase(0.7)]
    [TestCase(double.NaN)]
    public void LabelSmoothingOutsideZeroToAHalfIsRefused(double smoothing)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PreferenceLosses.Create("bt-smooth", smoothing));
        Assert.That(e!.ParamName, Is.EqualTo("labelSmoothing"));
        Assert.That(e.Message, Does.Contain("it must be in [0, 0.5)"));
    }

    [Test]
    public void LabelSmoothingForAnotherLossIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => PreferenceLosses.Create("hinge", 0.1));
        Assert.That(e!.ParamName, Is.EqualTo("labelSmoothing"));
    }

    // What a checkpoint records (name and settings) rebuilds the same loss: eval's loss column depends on it.
    [TestCase("bt", 0.0)]
    [TestCase("hinge", 0.0)]
    [TestCase("bt-margin", 0.0)]
    [TestCase("bt-smooth", 0.1)]
    [TestCase("bt-smooth", 0.3333333)]
    public void ARecordedLossIsRebuiltWithItsSettings(string name, double smoothing)
    {
        IPreferenceLoss made = smoothing == 0 ? PreferenceLosses.Create(name) : PreferenceLosses.Create(name, smoothing);
        IPreferenceLoss rebuilt = PreferenceLosses.Recreate(made.Name, made.Settings);
        Assert.That((rebuilt.Name, rebuilt.Settings), Is.EqualTo((made.Name, made.Settings)));
        if (smoothing != 0) Assert.That(made.Settings, Does.Contain(((float)smoothing).ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void SettingsALossNeverWritesAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => PreferenceLosses.Recreate("hinge", "label_smoothing=0.1"));
        Assert.That(e!.ParamName, Is.EqualTo("settings"));
        Assert.Throws<ArgumentException>(() => PreferenceLosses.Recreate("bt-smooth", "label_smoothing=abc"));
    }

    [Test]
    public void ASmoothedTermRefusesABadEpsilonToo()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SmoothedBradleyTerryTerm(-0.01f));
        Assert.That(e!.ParamName, Is.EqualTo("epsilon"));
    }

    [Test]
    public void ANullLossIsRefusedByTheOptions()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainingOptions { Loss = null! }.Validate());
        Assert.That(e!.ParamName, Is.EqualTo(nameof(TrainingOptions.Loss)));
    }

    [Test]
    public void ABatchWhoseSpansDisagreeIsRefusedNamingTheSpan()
    {
        var rejected = Assert.Throws<ArgumentException>(() => new PreferenceLossBatch([1f, 2f], [1f]));
        Assert.That(rejected!.ParamName, Is.EqualTo("rejected"));
        var weights = Assert.Throws<ArgumentException>(() => new PreferenceLossBatch([1f, 2f], [1f, 0f], default, [1f, -1f]));
        Assert.That(weights!.ParamName, Is.EqualTo("weights"));
        var margins = Assert.Throws<ArgumentException>(() => new PreferenceLossBatch([1f], [0f], [float.NaN]));
        Assert.That(margins!.ParamName, Is.EqualTo("margins"));
    }

    [Test]
    public void TheNamesAreWhatTheRegistryCreates()
    {
        Assert.That(PreferenceLosses.Names.Select(n => PreferenceLosses.Create(n).Name), Is.EqualTo(PreferenceLosses.Names));
        Assert.That(PreferenceLosses.Create("bt-smooth", 0.25).Settings, Is.EqualTo("label_smoothing=0.25"));
        Assert.That(PreferenceLosses.RunsNatively(PreferenceLosses.Create("bt")), Is.True);
        Assert.That(PreferenceLosses.RunsNatively(PreferenceLosses.BradleyTerryKernel()), Is.False);
    }
}
