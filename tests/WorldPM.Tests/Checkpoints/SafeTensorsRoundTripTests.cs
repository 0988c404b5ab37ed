using WorldPM.Checkpoints;

namespace WorldPM.Tests.Checkpoints;

public class SafeTensorsRoundTripTests
{
    private static TensorData RandomTensor(string name, TensorDType dtype, params long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var data = new byte[count * dtype.ByteSize()];
        Random.Shared.NextBytes(data);
        return new TensorData(name, dtype, shape, data);
    }

    [Test]
    public void EveryDTypeRoundTripsBitForBit()
    {
        using var dir = new TempDirectory();
        var tensors = Enum.GetValues<TensorDType>().Select((d, i) => RandomTensor($"t.{d}", d, 3, i + 1)).ToList();
        SafeTensorsWriter.Write(dir.File("all.safetensors"), tensors);

        var read = SafeTensorsFile.ReadAll(dir.File("all.safetensors")).ToDictionary(t => t.Name);
        Assert.That(read, Has.Count.EqualTo(tensors.Count));
        foreach (var t in tensors)
        {
            Assert.That(read[t.Name].DType, Is.EqualTo(t.DType), t.Name);
            Assert.That(read[t.Name].Shape, Is.EqualTo(t.Shape), t.Name);
            Assert.That(read[t.Name].Data, Is.EqualTo(t.Data), t.Name);
        }
    }

    [Test]
    public void ScalarsAndZeroSizeTensorsRoundTrip()
    {
        using var dir = new TempDirectory();
        var scalar = TensorData.Create<long>("step", TensorDType.I64, [], [123456789012345L]);
        var empty = new TensorData("empty", TensorDType.F32, [0, 7], []);
        SafeTensorsWriter.Write(dir.File("s.safetensors"), [scalar, empty]);

        using var file = SafeTensorsFile.Open(dir.File("s.safetensors"));
        Assert.That(file.Read("step").Values<long>().ToArray(), Is.EqualTo(new[] { 123456789012345L }));
        Assert.That(file.Read("step").Shape, Is.Empty);
        Assert.That(file["empty"].Shape, Is.EqualTo(new long[] { 0, 7 }));
        Assert.That(file.Read("empty").Data, Is.Empty);
    }

    [Test]
    public void MetadataRoundTripsWithFormatAndChecksumAdded()
    {
        using var dir = new TempDirectory();
        SafeTensorsWriter.Write(dir.File("m.safetensors"), [RandomTensor("w", TensorDType.F32, 4)],
            new Dictionary<string, string> { ["note"] = "héllo \"quoted\"" });

        using var file = SafeTensorsFile.Open(dir.File("m.safetensors"));
        Assert.That(file.Metadata["note"], Is.EqualTo("héllo \"quoted\""));
        Assert.That(file.Metadata["format"], Is.EqualTo("pt"));
        Assert.That(file.Metadata[DataChecksum.MetadataKey], Has.Length.EqualTo(64));
    }

    [Test]
    public void DataStartsEightByteAlignedAndEachTensorAlignedToItsElementSize()
    {
        using var dir = new TempDirectory();
        SafeTensorsWriter.Write(dir.File("a.safetensors"),
            [RandomTensor("b", TensorDType.U8, 3), RandomTensor("h", TensorDType.BF16, 3), RandomTensor("d", TensorDType.F64, 2)]);

        byte[] bytes = File.ReadAllBytes(dir.File("a.safetensors"));
        Assert.That(BitConverter.ToUInt64(bytes, 0) % 8, Is.Zero);
        using var file = SafeTensorsFile.Open(dir.File("a.safetensors"));
        Assert.That(file.Tensors.Select(t => t.Begin % t.DType.ByteSize()), Is.All.Zero);
    }

    [Test]
    public void ReadIntoCopiesAPieceOfATensor()
    {
        using var dir = new TempDirectory();
        var t = RandomTensor("big", TensorDType.F32, 100);
        SafeTensorsWriter.Write(dir.File("p.safetensors"), [t]);

        using var file = SafeTensorsFile.Open(dir.File("p.safetensors"));
        var piece = new byte[40];
        file.ReadInto("big", 200, piece);
        Assert.That(piece, Is.EqualTo(t.Data.Skip(200).Take(40).ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReadInto("big", 380, new byte[40]));
    }

    [Test]
    public void DuplicateTensorNamesAreRefusedByTheWriter()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<ArgumentException>(() =>
            SafeTensorsWriter.Write(dir.File("d.safetensors"), [RandomTensor("x", TensorDType.F32, 1), RandomTensor("x", TensorDType.F16, 1)]));
        Assert.That(ex!.Message, Does.Contain("\"x\""));
    }

    [Test]
    public void FloatsConvertToHalfAndBFloat16RoundingToNearestEven()
    {
        // 1 + 2^-8 lies exactly between two bf16 values (1 and 1 + 2^-7): ties go to the even one, 1.
        // 1 + 3*2^-9 is above the midpoint and rounds up to 1 + 2^-7.
        float[] values = [1f + 1f / 256, 1f + 3f / 512, -2.5f, 65504f];
        var bf16 = TensorData.FromFloats("b", [4], values, TensorDType.BF16).ToFloats();
        var f16 = TensorData.FromFloats("h", [4], values, TensorDType.F16).ToFloats();

        Assert.That(bf16, Is.EqualTo(new[] { 1f, 1f + 1f / 128, -2.5f, 65536f }));
        Assert.That(f16, Is.EqualTo(new[] { 1f + 1f / 256, 1f + 3f / 512, -2.5f, 65504f }));
        Assert.That(float.IsNaN(TensorData.FromFloats("n", [1], [float.NaN], TensorDType.BF16).ToFloats()[0]));
    }

    [Test]
    public void DataOfTheWrongLengthForTheShapeIsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TensorData("w", TensorDType.F16, [2, 3], new byte[10]));
        Assert.That(ex!.Message, Does.Contain("needs 12"));
    }
}
