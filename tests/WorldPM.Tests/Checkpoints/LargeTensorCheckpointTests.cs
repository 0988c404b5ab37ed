using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using WorldPM.Checkpoints;
using WorldPM.Native;
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

    // 131,073 x 4,096 fp32 = 2,147,500,032 bytes, just over 2^31.
    private static readonly long[] Shape = [131_073, 4_096];

    private const long FreeDiskNeeded = 6_000_000_000;

    /// <summary>
    /// Element <paramref name="i"/>'s value: an integer in [-125, 125] scaled by a power of two that changes every 2^20
    /// elements. Every value is exact in bf16 (8 significant bits), so the loaded bf16 value must equal it, and a piece
    /// landing at the wrong offset shows as a wrong value.
    /// </summary>
    private static float ValueAt(long i) => (i % 251 - 125) * ScaleAt(i);

    private static float ScaleAt(long i) => MathF.ScaleB(1f, (int)((i >> 20) % 16) - 8);

    /// <summary>Fills <paramref name="values"/> with elements <paramref name="first"/> on, as <see cref="ValueAt"/>
    /// gives them, stepping the remainder and the scale instead of dividing per element (half a billion of them).</summary>
    private static void Generate(long first, Span<float> values)
    {
        long remainder = first % 251;
        float scale = ScaleAt(first);
        for (int k = 0; k < values.Length; k++)
        {
            long i = first + k;
            if ((i & ((1 << 20) - 1)) == 0) scale = ScaleAt(i);
            values[k] = (remainder - 125) * scale;
            if (++remainder == 251) remainder = 0;
        }
    }

    [Test]
    public void ATensorOver2GiBRoundTripsThroughTheMemoryMapWithoutADoubleCopy()
    {
        using var dir = new TempDirectory();
        long free = new DriveInfo(dir.Path).AvailableFreeSpace;
        if (free < FreeDiskNeeded)
            Assert.Ignore($"needs {FreeDiskNeeded / 1e9:0} GB free in {Path.GetTempPath()} for a 2.1 GB checkpoint; {free / 1e9:0.#} GB are");

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

        long before = ResidentBytes("VmRSS");
        ResetPeakResident();
        reader.CopyTo(Name, loaded);
        long growth = ResidentBytes("VmHWM") - before;
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

    /// <summary>The ends, both sides of every mapping window and of the 2^31-byte mark, and spread-out random ones.</summary>
    private static IEnumerable<long> SampledIndices(long count)
    {
        var indices = new SortedSet<long> { 0, 1, count - 2, count - 1, (1L << 31) / sizeof(float) - 1, (1L << 31) / sizeof(float) };
        const long windowElements = (64L << 20) / sizeof(float);
        for (long w = windowElements; w < count; w += windowElements)
        {
            indices.Add(w - 1);
            indices.Add(w);
        }
        var random = new Random(14);
        for (int k = 0; k < 2000; k++) indices.Add(random.NextInt64(count));
        return indices;
    }

    private static long ResidentBytes(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            string kilobytes = line[(field.Length + 1)..].Trim().Split(' ')[0];
            return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"/proc/self/status has no {field}");
    }

    /// <summary>Sets the process's peak resident memory (VmHWM) back to its current resident memory (Linux 4.0 on).</summary>
    private static void ResetPeakResident()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Assert.Ignore($"cannot reset the peak resident memory through /proc/self/clear_refs ({e.Message}), so the load's peak cannot be measured");
        }
    }
}
