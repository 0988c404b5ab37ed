using System.Buffers.Binary;
using WorldPM.Checkpoints;

namespace WorldPM.Tests.Checkpoints;

/// <summary>Files laid out byte by byte in the test, as another writer (Hugging Face) would, read back correctly.</summary>
public class HandBuiltFileTests
{
    [Test]
    public void HuggingFaceStyleFileWithSpacePaddingIsRead()
    {
        using var dir = new TempDirectory();
        var data = new byte[8 + 4 + 6];
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(0), 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -2f);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(8), -7);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(12), 0x3F80); // bf16 1.0
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(14), 0x4000); // bf16 2.0
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(16), 0xC040); // bf16 -3.0
        string header = """
            {"__metadata__":{"format":"pt"},
             "w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
             "i":{"dtype":"I32","shape":[],"data_offsets":[8,12]},
             "b":{"dtype":"BF16","shape":[1,3],"data_offsets":[12,18]}}
            """;
        string path = RawSafeTensors.Write(dir.File("hf.safetensors"), header, data);
        Assert.That((new FileInfo(path).Length - 8 - data.Length) % 8, Is.Zero, "the builder pads the header as HF does");

        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["format"] = "pt" }));
        Assert.That(file.Read("w").ToFloats(), Is.EqualTo(new[] { 1.5f, -2f }));
        Assert.That(file.Read("i").Values<int>().ToArray(), Is.EqualTo(new[] { -7 }));
        Assert.That(file.Read("b").ToFloats(), Is.EqualTo(new[] { 1f, 2f, -3f }));
        Assert.That(file.Read("b").Shape, Is.EqualTo(new long[] { 1, 3 }));
    }

    [Test]
    public void UnpaddedHeaderAndTensorsListedOutOfOffsetOrderAreRead()
    {
        using var dir = new TempDirectory();
        byte[] data = [1, 2, 3, 4, 5];
        string header = """{"second":{"dtype":"U8","shape":[3],"data_offsets":[2,5]},"first":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}""";
        string path = RawSafeTensors.Write(dir.File("raw.safetensors"), header, data, align: 1);

        using var file = SafeTensorsFile.Open(path);
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "first", "second" }));
        Assert.That(file.Read("second").Data, Is.EqualTo(new byte[] { 3, 4, 5 }));
    }

    [Test]
    public void FileWithoutChecksumFromAnotherWriterLoads()
    {
        using var dir = new TempDirectory();
        string path = RawSafeTensors.Write(dir.File("x.safetensors"), """{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}""", [42]);

        Assert.That(SafeTensorsFile.ReadAll(path).Single().Data, Is.EqualTo(new byte[] { 42 }));
    }
}
