using WorldPM.Checkpoints;
using WorldPM.Native;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Checkpoints;

/// <summary>Loading a stored tensor into a buffer of another float dtype converts it, rounding to nearest even.</summary>
public class TensorConversionTests
{
    // Exact in every float dtype, so every conversion must give them back unchanged.
    private static readonly float[] Exact = [-2.5f, 0f, 1f, 3.75f, 1024f, -0.125f];

    private static TensorData Stored(string name, TensorDType dtype, float[] values) => dtype switch
    {
        TensorDType.F32 => TensorData.Create<float>(name, dtype, [values.Length], values),
        TensorDType.F64 => TensorData.Create<double>(name, dtype, [values.Length], values.Select(v => (double)v).ToArray()),
        TensorDType.F16 => TensorData.Create<Half>(name, dtype, [values.Length], values.Select(v => (Half)v).ToArray()),
        // Exact values only: their low 16 bits are zero, so the upper half is the bf16.
        TensorDType.BF16 => TensorData.Create<ushort>(name, dtype, [values.Length],
            values.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray()),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static float[] LoadAs(WorldPMContext context, SafeTensorsFile file, string name, DType into)
    {
        int count = (int)file[name].ElementCount;
        switch (into)
        {
            case DType.F32:
                using (var f = context.Allocate<float>(count)) { file.CopyTo(name, f); return f.ToArray(); }
            case DType.F16:
                using (var h = context.Allocate<Half>(count)) { file.CopyTo(name, h); return h.ToArray().Select(v => (float)v).ToArray(); }
            default:
                using (var b = context.Allocate<BFloat16>(count)) { file.CopyTo(name, b); return b.ToArray().Select(v => (float)v).ToArray(); }
        }
    }

    [Test]
    public void EveryStoredFloatDTypeLoadsIntoEveryBufferDType(
        [Values(TensorDType.F32, TensorDType.F16, TensorDType.BF16, TensorDType.F64)] TensorDType stored,
        [Values(DType.F32, DType.F16, DType.BF16)] DType into)
    {
        using var dir = new TempDirectory();
        SafeTensorsWriter.Write(dir.File("t.safetensors"), [Stored("t", stored, Exact)]);
        using var file = SafeTensorsFile.Open(dir.File("t.safetensors"));
        using WorldPMContext context = Context();
        Assert.That(LoadAs(context, file, "t", into), Is.EqualTo(Exact));
    }

    [Test]
    public void NarrowingRoundsToNearestEven()
    {
        // bf16 keeps 7 fraction bits: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 (even: 1); 1 + 3 * 2^-8 is halfway
        // between 1 + 2^-7 and 1 + 2^-6 (even: 1 + 2^-6); 1 + 2^-8 + 2^-20 is past halfway (up: 1 + 2^-7).
        // f16 keeps 10: 1 + 2^-11 rounds to 1, 1 + 3 * 2^-11 to 1 + 2^-9.
        float[] source = [1 + 1f / 256, 1 + 3f / 256, 1 + 1f / 256 + 1f / (1 << 20), 1 + 1f / 2048, 1 + 3f / 2048];
        using var dir = new TempDirectory();
        SafeTensorsWriter.Write(dir.File("t.safetensors"), [Stored("t", TensorDType.F32, source)]);
        using var file = SafeTensorsFile.Open(dir.File("t.safetensors"));
        using WorldPMContext context = Context();
        Assert.That(LoadAs(context, file, "t", DType.BF16),
            Is.EqualTo(new[] { 1f, 1 + 1f / 64, 1 + 1f / 128, 1f, 1f }));
        Assert.That(LoadAs(context, file, "t", DType.F16),
            Is.EqualTo(new[] { 1 + 1f / 256, 1 + 3f / 256, 1 + 1f / 256, 1f, 1 + 1f / 512 }));
    }

    [Test]
    public void TheFirstNonFiniteValueOfAPieceIsReportedWithItsIndex()
    {
        using var dir = new TempDirectory();
        float[] values = [1f, 2f, 3f, float.NaN, 5f, float.NegativeInfinity];
        SafeTensorsWriter.Write(dir.File("t.safetensors"),
            [TensorData.FromFloats("h", [6], values, TensorDType.BF16), TensorData.FromFloats("f", [6], values)]);
        using var file = SafeTensorsFile.Open(dir.File("t.safetensors"));
        using WorldPMContext context = Context();
        foreach (string name in new[] { "h", "f" })
        {
            var reported = new List<(long, float)>();
            using var into = context.Allocate<float>(6);
            file.CopyTo(name, into, (element, value) => reported.Add((element, value)));
            Assert.That(reported, Is.EqualTo(new[] { (3L, float.NaN) }), name);
            Assert.That(into.ToArray()[5], Is.EqualTo(float.NegativeInfinity), name);
        }
    }

    [Test]
    public void AnIntegerTensorOrAnotherSizeIsRefusedNamingTheTensor()
    {
        using var dir = new TempDirectory();
        SafeTensorsWriter.Write(dir.File("t.safetensors"),
            [TensorData.Create<int>("ids", TensorDType.I32, [3], [1, 2, 3]), Stored("w", TensorDType.F32, Exact)]);
        using var file = SafeTensorsFile.Open(dir.File("t.safetensors"));
        using WorldPMContext context = Context();
        using var three = context.Allocate<float>(3);
        var e = Assert.Throws<CheckpointFormatException>(() => file.CopyTo("ids", three));
        Assert.That(e!.Message, Does.Contain("\"ids\"").And.Contain("I32"));
        var size = Assert.Throws<ArgumentException>(() => file.CopyTo("w", three));
        Assert.That(size!.Message, Does.Contain("\"w\"").And.Contain("6 elements"));
    }
}
