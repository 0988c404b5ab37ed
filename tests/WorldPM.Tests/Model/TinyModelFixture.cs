using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>A fresh CPU context and <see cref="ModelTestKit.Tiny"/> model per test, disposed after it.</summary>
public abstract class TinyModelFixture
{
    protected WorldPMContext context = null!;
    protected RewardModel model = null!;

    /// <summary>When set, the parameters are replaced by <see cref="ModelTestKit.Randomize"/> with this seed.</summary>
    protected virtual int? RandomizeSeed => null;

    [SetUp]
    public void CreateModel()
    {
        context = Context();
        model = new RewardModel(context, Tiny, seed: 1);
        if (RandomizeSeed is int seed) Randomize(model, seed);
    }

    [TearDown]
    public void DisposeModel()
    {
        model.Dispose();
        context.Dispose();
    }
}
