using WorldPM.Checkpoints;

namespace WorldPM.Tests.Checkpoints;

public class TrainingStateFileTests
{
    [Test]
    public void StateRoundTripsExactly()
    {
        using var dir = new TempDirectory();
        var moment = new byte[4 * 24];
        Random.Shared.NextBytes(moment);
        var state = new TrainingState { Step = 1234 };
        state.Add(new TensorData(TrainingState.FirstMomentName("model.norm.weight"), TensorDType.F32, [4, 6], moment));
        state.Add(new TensorData(TrainingState.SecondMomentName("model.norm.weight"), TensorDType.F32, [4, 6], moment.Reverse().ToArray()));
        double lossScale = 65536.0 / 3;
        ulong[] rng = [0xDEADBEEFCAFEF00D, 0, ulong.MaxValue, 42];
        state.Scalars.SetDouble("loss_scale", lossScale);
        state.Scalars.SetDouble("negative_zero", -0.0);
        state.Scalars.SetInt64("scaler.good_steps", -17);
        state.Scalars.SetUInt64("data.position", ulong.MaxValue - 1);
        state.Scalars.SetUInt64s("rng", rng);
        state.Scalars.SetBytes("rng.bytes", [0, 255, 7]);
        state.Scalars.SetString("data.file", "pairs.jsonl");
        string path = dir.File(TrainingStateFile.FileName);

        TrainingStateFile.Write(path, state);
        var back = TrainingStateFile.Read(path);

        Assert.That(back.Step, Is.EqualTo(1234));
        Assert.That(back.Tensors.Keys, Is.EquivalentTo(new[] { "model.norm.weight.adam_m", "model.norm.weight.adam_v" }));
        Assert.That(back.Tensors["model.norm.weight.adam_m"].Data, Is.EqualTo(moment));
        Assert.That(back.Tensors["model.norm.weight.adam_v"].Shape, Is.EqualTo(new long[] { 4, 6 }));
        Assert.That(BitConverter.DoubleToInt64Bits(back.Scalars.GetDouble("loss_scale")), Is.EqualTo(BitConverter.DoubleToInt64Bits(lossScale)));
        Assert.That(BitConverter.DoubleToInt64Bits(back.Scalars.GetDouble("negative_zero")), Is.EqualTo(BitConverter.DoubleToInt64Bits(-0.0)));
        Assert.That(back.Scalars.GetInt64("scaler.good_steps"), Is.EqualTo(-17));
        Assert.That(back.Scalars.GetUInt64("data.position"), Is.EqualTo(ulong.MaxValue - 1));
        Assert.That(back.Scalars.GetUInt64s("rng"), Is.EqualTo(rng));
        Assert.That(back.Scalars.GetBytes("rng.bytes"), Is.EqualTo(new byte[] { 0, 255, 7 }));
        Assert.That(back.Scalars.GetString("data.file"), Is.EqualTo("pairs.jsonl"));
        Assert.That(back.Scalars.Raw, Is.EquivalentTo(state.Scalars.Raw));
    }

    [Test]
    public void MissingScalarIsNamedInTheError()
    {
        var ex = Assert.Throws<KeyNotFoundException>(() => new TrainingScalars().GetDouble("loss_scale"));
        Assert.That(ex!.Message, Does.Contain("loss_scale"));
    }

    [Test]
    public void SafeTensorsFileWithoutAStepIsNotATrainingState()
    {
        using var dir = new TempDirectory();
        string path = dir.File("weights.safetensors");
        SafeTensorsWriter.Write(path, [new TensorData("w", TensorDType.U8, [1], [1])]);

        var ex = Assert.Throws<CheckpointFormatException>(() => TrainingStateFile.Read(path));
        Assert.That(ex!.Message, Does.Contain("worldpm.step"));
    }

    [Test]
    public void FlippedByteInAMomentFailsTheChecksum()
    {
        using var dir = new TempDirectory();
        var state = new TrainingState { Step = 1 };
        state.Add(new TensorData("w.adam_m", TensorDType.F32, [64], new byte[256]));
        string path = dir.File(TrainingStateFile.FileName);
        TrainingStateFile.Write(path, state);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0x80;
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<CheckpointFormatException>(() => TrainingStateFile.Read(path));
        Assert.That(ex!.Message, Does.Contain("checksum mismatch"));
    }
}
