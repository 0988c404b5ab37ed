using WorldPM.Checkpoints;

namespace WorldPM.Tests.Checkpoints;

/// <summary>Every damaged or malformed file is refused with a <see cref="CheckpointFormatException"/> naming the file and the problem.</summary>
public class CorruptFileTests
{
    private static CheckpointFormatException OpenFails(string path)
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.That(ex!.Message, Does.StartWith(path + ": "));
        return ex;
    }

    private static CheckpointFormatException OpenFails(TempDirectory dir, string header, byte[] data) =>
        OpenFails(RawSafeTensors.Write(dir.File("bad.safetensors"), header, data));

    private static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    [TestCase("{\"a\":", "not valid JSON", TestName = "BadJsonIsRefused")]
    [TestCase("[1, 2]", "not an object", TestName = "HeaderThatIsNotAnObjectIsRefused")]
    [TestCase("{\"\\ud800\":{}}", "not valid text", TestName = "LoneSurrogateInANameIsRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
        "names \"a\" twice", TestName = "DuplicateTensorNamesAreRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F33\",\"shape\":[4],\"data_offsets\":[0,16]}}", "unknown dtype \"F33\"", TestName = "UnknownDTypeIsRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,16]}}", "shape[0] is -1", TestName = "NegativeDimensionIsRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}", "overflows", TestName = "ElementCountOverflowIsRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", "wrong size for the dtype", TestName = "WrongSizeForTheDTypeIsRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", "past the end of the data section", TestName = "OffsetsOutOfBoundsAreRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,0]}}", "end before they begin", TestName = "ReversedOffsetsAreRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
        "overlap", TestName = "OverlappingTensorsAreRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
        "gap of 4 unused bytes", TestName = "GapBetweenTensorsIsRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "8 trailing bytes", TestName = "TrailingBytesAreRefused")]
    [TestCase("{\"__metadata__\":{\"n\":3}}", "not a string", TestName = "NonStringMetadataIsRefused")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[4]}}", "no \"data_offsets\" array", TestName = "MissingOffsetsAreRefused")]
    public void MalformedHeader(string header, string problem)
    {
        using var dir = new TempDirectory();
        var ex = OpenFails(dir, header, new byte[16]);
        Assert.That(ex.Problem, Does.Contain(problem));
    }

    [Test]
    public void HeaderThatIsNotUtf8IsRefused()
    {
        using var dir = new TempDirectory();
        byte[] bytes = RawSafeTensors.Build("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", [9]);
        bytes[8 + 2] = 0xFF;
        File.WriteAllBytes(dir.File("u.safetensors"), bytes);

        Assert.That(OpenFails(dir.File("u.safetensors")).Problem, Does.Contain("not valid JSON"));
    }

    [Test]
    public void TruncatedFileIsRefused()
    {
        using var dir = new TempDirectory();
        string path = dir.File("t.safetensors");
        SafeTensorsWriter.Write(path, [new TensorData("w", TensorDType.F32, [64], new byte[256])]);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);

        Assert.That(OpenFails(path).Problem, Does.Contain("truncated"));
    }

    [Test]
    public void FileShorterThanTheLengthPrefixIsRefused()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("tiny.safetensors"), [1, 2, 3]);

        Assert.That(OpenFails(dir.File("tiny.safetensors")).Problem, Does.Contain("fewer than the 8"));
    }

    [Test]
    public void HeaderLengthLargerThanTheFileIsRefused()
    {
        using var dir = new TempDirectory();
        string path = RawSafeTensors.Write(dir.File("h.safetensors"), "{}", [], declaredHeaderLength: 4096);

        Assert.That(OpenFails(path).Problem, Does.Contain("header length 4096 is larger than the file"));
    }

    [Test]
    public void AbsurdHeaderLengthIsRefused()
    {
        using var dir = new TempDirectory();
        string path = RawSafeTensors.Write(dir.File("h.safetensors"), "{}", [], declaredHeaderLength: ulong.MaxValue);

        Assert.That(OpenFails(path).Problem, Does.Contain("limit"));
    }

    [Test]
    public void FlippedDataByteFailsTheChecksum()
    {
        using var dir = new TempDirectory();
        string path = dir.File("c.safetensors");
        var data = new byte[1024];
        Random.Shared.NextBytes(data);
        SafeTensorsWriter.Write(path, [new TensorData("w", TensorDType.BF16, [512], data)]);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^300] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        Assert.That(OpenFails(path).Problem, Does.Contain("checksum mismatch"));
        Assert.DoesNotThrow(() => SafeTensorsFile.Open(path, verifyChecksum: false).Dispose(), "verification can be skipped on purpose");
    }

    [Test]
    public void MalformedChecksumIsRefused()
    {
        using var dir = new TempDirectory();
        string header = "{\"__metadata__\":{\"worldpm.sha256\":\"abc\"}," + Entry("a", "U8", "[1]", 0, 1) + "}";

        Assert.That(OpenFails(dir, header, [7]).Problem, Does.Contain("not 64 hex digits"));
    }
}
