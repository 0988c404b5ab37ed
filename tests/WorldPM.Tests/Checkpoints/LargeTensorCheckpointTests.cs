using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using WorldPM.Checkpoints;
using WorldPM.Native;
using static WorldPM.Tests.Checkpoints.LargeTensorPattern;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Checkpoints;

/// <summary>
/// A checkpoint holding one tensor of more than 2 GiB (more than any array holds) is written, loaded and checked, and
/// the load's peak resident memory is measured: the tensor is written from a source without ever being whole in
/// memory, and read through the memory map straight into the destination buffer, so the process grows by the
/// destination and at most a window of the mapping, never by the file.
/// </summary>
public class LargeTensorCheckpointTests
{
    private const string Name = "model.embed_tokens.weight";

    [Test]
    public void ATensorOver2GiBRoundTripsThroughTheMemoryMapWithoutADoubleCopy()
    {
        using var dir = new TempDirectory();
        RequireFreeDisk(dir.Path);

        long count = Shape[0] * Shape[1];
        long fileBytes = count * sizeof(float);
        Assert.That(fileBytes, Is.GreaterThan(1L << 31));
        TensorData tensor = TensorData.Streamed(Name, TensorDType.F32, Shape,
            (offset, destination) => Generate(offset / sizeof(float), MemoryMarshal.Cast<byte, float>(destination)));
        ModelCheckpoint.Write(dir.Path, [tensor], new JsonObject { ["model_type"] = "qwen2" });
        Assert.That(new FileInfo(dir.File(ModelCheckpoint.WeightsFileName)).Length, Is.GreaterThan(fileBytes));

        using WorldPMContext context = Context();
        using ModelCheckpointReader reader = ModelCheckpoint.Open(dir.Path);
        Assert.That(reader[Name].ByteLength, Is.EqualTo(fileBytes));
        // Converted to bf16 on the way in; the destination is written once before measuring, so its own pages are
        // resident already and the growth is what the load itself holds.
        using DeviceBuffer<BFloat16> loaded = context.Allocate<BFloat16>(Shape);
        loaded.Fill(0);

        long growth = ResidentMemory.PeakGrowthDuring(() => reader.CopyTo(Name, loaded));
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"file {fileBytes / 1e9:0.###} GB, peak resident growth during the load {growth / 1e9:0.###} GB"));
        Assert.That(growth, Is.LessThan(fileBytes), "the load's peak resident memory grew by more than the file");
        Assert.That(growth, Is.LessThan(256L << 20), "the load held more than a window of the mapping and its staging");

        foreach (long i in SampledIndices(count))
        {
            var one = new BFloat16[1];
            loaded.CopyTo(one, i);
            Assert.That((float)one[0], Is.EqualTo(ValueAt(i)), $"element {i}");
        }
    }
}
