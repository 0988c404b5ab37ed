using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>A config's memory is known before anything is allocated, and one that cannot fit is refused at once.</summary>
public class ModelMemoryTests
{
    [Test]
    public void TheParameterCountIsTheBuiltModels()
    {
        using WorldPMContext context = Context();
        foreach (ModelConfig config in new[] { Tiny, Tiny with { NumHiddenLayers = 3, NumKeyValueHeads = 1, HeadHiddenSize = 5 } })
        {
            using var model = new RewardModel(context, config, seed: 1);
            long built = model.Parameters.Sum(p => p.Shape.Aggregate(1L, (n, d) => n * d));
            Assert.That(ModelMemory.ParameterCount(config), Is.EqualTo(built));
        }
    }

    [Test]
    public void AConfigThatCannotFitIsRefusedBeforeAnyAllocation()
    {
        using WorldPMContext context = Context();
        ModelConfig huge = Tiny with { NumHiddenLayers = 2_000_000_000 };
        long before = GC.GetTotalAllocatedBytes(precise: true);

        var e = Assert.Throws<InsufficientMemoryException>(() => new RewardModel(context, huge, seed: 1).Dispose());

        Assert.That(e!.Message, Does.Contain("the model needs").And.Contain("TB").And.Contain("backend has"));
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - before, Is.LessThan(10_000_000), "refused before building anything");
    }

    [TestCase(999.0, "999 B")]
    [TestCase(1.03e12, "1.03 TB")]
    [TestCase(25_280_000_000.0, "25.28 GB")]
    public void SizesReadInDecimalUnits(double bytes, string text) => Assert.That(ModelMemory.Size(bytes), Is.EqualTo(text));

    [TestCase(Precision.F32, false)]
    [TestCase(Precision.BF16, false)]
    [TestCase(Precision.F16, true)]
    public void ActivationBytesAreWhatTheModelAllocates(Precision precision, bool recompute)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 3, precision) { RecomputeActivations = recompute };
        int[] lengths = [5, 3, 7, 2];
        model.ForwardBackward(Tokens(new Random(1), Tiny, lengths, 7), lengths, 2, 7);

        Assert.That(ModelMemory.ActivationBytes(Tiny, precision, sequences: 4, tokens: 7, recompute), Is.EqualTo(model.ActivationBytes));
    }
}

