using WorldPM.Model;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Model;

/// <summary>Bad batches are refused at the model's boundary with messages that say what was wrong.</summary>
public class InputValidationTests : TinyModelFixture
{

    [Test]
    public void AnOutOfVocabularyTokenIsNamedByPosition()
    {
        int[] tokens = [1, 2, 3, 4, 11, 6];
        Assert.That(() => model.ForwardBackward(tokens, [3, 3], 1, 3),
            Throws.ArgumentException.With.Message.Contains("tokens[1, 1] is 11").And.Message.Contains("0..10"));
    }

    [Test]
    public void PaddingMayHoldAnyId()
    {
        int[] tokens = [1, 2, -100, 4, 99999, -1];
        Assert.That(() => model.ForwardBackward(tokens, [2, 1], 1, 3), Throws.Nothing);
    }

    [TestCase(0)]
    [TestCase(4)]
    public void LengthsOutside1ToSeqLenAreRefused(int length) =>
        Assert.That(() => model.Score([1, 2, 3], [length], 1, 3),
            Throws.ArgumentException.With.Message.Contains($"lengths[0] is {length}; it must be in 1..3"));

    [Test]
    public void SpanSizesMustMatchTheShape()
    {
        Assert.That(() => model.Score([1, 2, 3], [3], 1, 4), Throws.ArgumentException.With.Message.Contains("need 4"));
        Assert.That(() => model.Score([1, 2, 3, 4], [2], 2, 2), Throws.ArgumentException.With.Message.Contains("lengths holds 1"));
    }

    [Test]
    public void ShapesMustBePositiveAndWithinTheContext()
    {
        Assert.That(() => model.ForwardBackward([], [], 0, 3), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => model.Score([1], [1], 1, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => model.Score(new int[65], [1], 1, 65),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("max_position_embeddings"));
    }

    [Test]
    public void WeightsMustBeOnePerPairNonNegativeWithAPositiveSum()
    {
        int[] tokens = [1, 2, 3, 4];
        int[] lengths = [2, 2];
        Assert.That(() => model.ForwardBackward(tokens, lengths, 1, 2, weights: new float[] { 1, 1 }),
            Throws.ArgumentException.With.Message.Contains("one per pair"));
        Assert.That(() => model.ForwardBackward(tokens, lengths, 1, 2, weights: new float[] { -1 }),
            Throws.ArgumentException.With.Message.Contains("weights[0] is -1"));
        Assert.That(() => model.ForwardBackward(tokens, lengths, 1, 2, weights: new float[] { 0 }),
            Throws.ArgumentException.With.Message.Contains("sum to 0"));
    }

    [Test]
    public void ARefusedBatchLeavesGradientsUntouched()
    {
        Assert.That(() => model.ForwardBackward([1, 2, 3, 40], [2, 2], 1, 2), Throws.ArgumentException);
        Assert.That(model.ParameterGradients.ToFloats(), Is.All.Zero);
    }
}
