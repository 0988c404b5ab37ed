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

    [TestCase(Precision.F32, false)]
    [TestCase(Precision.BF16, true)]
    public void PackedActivationBytesAreWhatTheModelAllocates(Precision precision, bool recompute)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 3, precision) { RecomputeActivations = recompute };
        int[][] sequences = [[1, 2, 3, 4, 5], [6, 7, 8], [9, 10, 1, 2, 3, 4, 5], [6, 7]];
        model.ForwardBackward(new PairBatch(SequenceBatch.FromSequences(Tiny, sequences, SequenceLayout.Packed)));

        Assert.That(ModelMemory.ActivationBytes(Tiny, precision, sequences: 4, tokens: 17, recompute, packed: true),
            Is.EqualTo(model.ActivationBytes));
    }

    /// <summary>Packed batches change N every time: the activations stay in the buffers of the largest batch so far
    /// (the figure of that batch), and grow only when a batch needs more than they hold.</summary>
    [Test]
    public void TheActivationsStayInTheBuffersOfTheLargestBatchSoFar()
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 3);
        var random = new Random(4);
        void Run(params int[] lengths) => model.ForwardBackward(new PairBatch(SequenceBatch.FromSequences(Tiny,
            [.. lengths.Select(n => Enumerable.Range(0, n).Select(_ => random.Next(Tiny.VocabSize)).ToArray())],
            SequenceLayout.Packed)));
        double Figure(int sequences, int tokens) => ModelMemory.ActivationBytes(Tiny, Precision.F32, sequences, tokens, packed: true);

        Run(9, 12, 20, 7);
        Assert.That(model.ActivationBytes, Is.EqualTo(Figure(4, 48)));
        Run(3, 5);
        Run(1, 30, 2, 1);
        Run(11, 2, 6, 4, 1, 1);
        Assert.That(model.ActivationBytes, Is.EqualTo(Figure(4, 48)), "smaller batches reuse the buffers");
        Run(40, 21);
        Assert.That(model.ActivationBytes, Is.EqualTo(Figure(4, 61)), "a longer batch grows them to cover both");
    }
}
