using System.Globalization;
using WorldPM.Checkpoints;
using WorldPM.Native;
using static WorldPM.Tests.Checkpoints.LargeTensorPattern;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Checkpoints;

/// <summary>
/// A training state holding an optimizer moment of more than 2 GiB (more than any array holds; Qwen2.5-72B's embedding
/// moments are 5 GB each) is saved from its device buffer and resumed into it as a trainer does it: streamed to the
/// file through the writer's bounded staging, and copied back from the memory map, the whole tensor and one rank's
/// share across the 2^31-byte mark. The peak resident growth of both stays far below the file.
/// </summary>
public class LargeTrainingStateTests
{
    private const string Parameter = "model.embed_tokens.weight";

    /// <summary>Elements put into the device buffer per copy while filling it.</summary>
    private const int FillElements = 1 << 20;

    [Test]
    public void AMomentOver2GiBIsSavedFromItsBufferAndResumedIntoItWithoutAWholeHostCopy()
    {
        using var dir = new TempDirectory();
        RequireFreeDisk(dir.Path);
        long count = Shape[0] * Shape[1];
        long tensorBytes = count * sizeof(float);
        Assert.That(tensorBytes, Is.GreaterThan(1L << 31));

        using WorldPMContext context = Context();
        using DeviceBuffer<float> moment = context.Allocate<float>(Shape);
        var piece = new float[FillElements];
        for (long done = 0; done < count; done += FillElements)
        {
            Span<float> part = piece.AsSpan(0, (int)Math.Min(FillElements, count - done));
            Generate(done, part);
            moment.CopyFrom(part, done);
        }
        string name = TrainingState.FirstMomentName(Parameter);
        var state = new TrainingState { Step = 7 };
        state.Add(TensorData.FromBuffer(name, Shape, moment));
        state.Scalars.SetInt64("data.position", 123_456);
        string path = dir.File(TrainingStateFile.FileName);

        long saveGrowth = ResidentMemory.PeakGrowthDuring(() => TrainingStateFile.Write(path, state));

        Assert.That(new FileInfo(path).Length, Is.GreaterThan(tensorBytes));
        // Zeroed in place: the buffer's pages stay resident, and every value must come back from the file.
        moment.Fill(0);
        using TrainingState resumed = TrainingStateFile.Open(path);
        Assert.That((resumed.Step, resumed.Scalars.GetInt64("data.position")), Is.EqualTo((7L, 123_456L)));
        TensorData stored = resumed.Tensors[name];
        Assert.That((stored.DType, stored.Shape), Is.EqualTo((TensorDType.F32, Shape)));

        long restoreGrowth = ResidentMemory.PeakGrowthDuring(() => stored.CopyTo(moment));

        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"state {tensorBytes / 1e9:0.###} GB; peak resident growth: save {saveGrowth / 1e9:0.###} GB, restore {restoreGrowth / 1e9:0.###} GB"));
        Assert.That(saveGrowth, Is.LessThan(256L << 20), "the save held more than its staging");
        Assert.That(restoreGrowth, Is.LessThan(256L << 20), "the restore held more than a window of the mapping");
        var one = new float[1];
        foreach (long i in SampledIndices(count))
        {
            moment.CopyTo(one, i);
            Assert.That(one[0], Is.EqualTo(ValueAt(i)), $"element {i}");
        }

        // One rank's share of the tensor, as ZeRO-1 restores it: from an element offset past 2^31 bytes.
        long first = (1L << 31) / sizeof(float) - 1000;
        using DeviceBuffer<float> share = context.Allocate<float>(5000);
        stored.CopyTo(share, first);
        float[] shared = share.ToArray();
        for (int k = 0; k < shared.Length; k++)
            Assert.That(shared[k], Is.EqualTo(ValueAt(first + k)), $"element {first + k} of the share");
    }
}
