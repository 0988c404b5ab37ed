using System.Runtime.InteropServices;
using System.Security.Cryptography;
using WorldPM.Checkpoints;

namespace WorldPM.Tests.Checkpoints;

/// <summary>A tensor whose bytes come from a source on demand is written exactly as the same bytes held in an array.</summary>
public class StreamedWriteTests
{
    private static TensorData InMemory(string name, TensorDType dtype, long[] shape, int seed)
    {
        long bytes = shape.Aggregate((long)dtype.ByteSize(), (a, b) => a * b);
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        return new TensorData(name, dtype, shape, data);
    }

    private static TensorData StreamedCopyOf(TensorData held, List<(long Offset, int Length)> requests) =>
        TensorData.Streamed(held.Name, held.DType, held.Shape, (offset, destination) =>
        {
            requests.Add((offset, destination.Length));
            held.Data.AsSpan((int)offset, destination.Length).CopyTo(destination);
        });

    [Test]
    public void AStreamedFileIsByteForByteTheInMemoryOneWithAValidChecksum()
    {
        using var dir = new TempDirectory();
        // 9 MiB of f32: read in several pieces; plus small tensors of other element sizes around it.
        List<TensorData> held =
        [
            InMemory("big", TensorDType.F32, [3, 786_432], 1), InMemory("half", TensorDType.BF16, [5, 3], 2),
            InMemory("step", TensorDType.I64, [], 3), InMemory("empty", TensorDType.F16, [0, 4], 4),
        ];
        var requests = new List<(long Offset, int Length)>();
        SafeTensorsWriter.Write(dir.File("held.safetensors"), held);
        SafeTensorsWriter.Write(dir.File("streamed.safetensors"), held.Select(t => StreamedCopyOf(t, requests)));

        byte[] expected = File.ReadAllBytes(dir.File("held.safetensors"));
        Assert.That(File.ReadAllBytes(dir.File("streamed.safetensors")), Is.EqualTo(expected));
        Assert.That(requests.Count(r => r.Length > 0), Is.GreaterThan(held.Count), "the big tensor came in pieces");
        Assert.That(requests.Max(r => r.Length), Is.LessThan(held[0].ByteLength));

        using var file = SafeTensorsFile.Open(dir.File("streamed.safetensors"));
        Assert.That(file.Read("big").Data, Is.EqualTo(held[0].Data));
        long dataStart = 8 + BitConverter.ToInt64(expected, 0);
        Assert.That(file.Metadata[DataChecksum.MetadataKey], Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(expected.AsSpan((int)dataStart)))));
    }

    [Test]
    public void AStreamWithoutSeekingGetsTheSameBytes()
    {
        using var dir = new TempDirectory();
        List<TensorData> held = [InMemory("w", TensorDType.F32, [1000, 3], 5), InMemory("b", TensorDType.F16, [7], 6)];
        SafeTensorsWriter.Write(dir.File("file.safetensors"), held);
        using var sink = new MemoryStream();
        using (var forward = new FailingStream(sink, failAfter: long.MaxValue))
            SafeTensorsWriter.WriteTo(forward, held.Select(t => StreamedCopyOf(t, [])));
        Assert.That(sink.ToArray(), Is.EqualTo(File.ReadAllBytes(dir.File("file.safetensors"))));
    }

    [Test]
    public void AStreamedTensorHasNoArrayAndIsReadInWholeElements()
    {
        var tensor = TensorData.Streamed("s", TensorDType.F32, [4], (offset, destination) =>
            MemoryMarshal.Cast<byte, float>(destination).Fill(offset));
        Assert.That(tensor.IsStreamed, Is.True);
        Assert.That(tensor.ByteLength, Is.EqualTo(16));
        Assert.Throws<InvalidOperationException>(() => _ = tensor.Data);
        Assert.Throws<ArgumentException>(() => tensor.CopyTo(2, new byte[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tensor.CopyTo(8, new byte[12]));
        var piece = new byte[8];
        tensor.CopyTo(8, piece);
        Assert.That(MemoryMarshal.Cast<byte, float>(piece).ToArray(), Is.EqualTo(new[] { 8f, 8f }));
    }
}
