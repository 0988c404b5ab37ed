using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tests.Checkpoints;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Training;

/// <summary>
/// A trainer's state streamed to <c>training_state.safetensors</c> and restored from its memory map: every tensor
/// comes back bit for bit and training continues bitwise as if never saved; a save that fails half way through the
/// state commits nothing and leaves the previous checkpoint whole.
/// </summary>
public class TrainingStateSaveTests
{
    private static readonly TrainingOptions Optimizer = new() { PairsPerMicroBatch = 4, LearningRate = 1e-2, Seed = 5 };

    private static List<PairBatch> Batch(int step) =>
        [new PairBatch(Tiny, [.. TrainingRunTests.Pairs(16).Skip(4 * (step % 4)).Take(4)])];

    private static void WriteCheckpoint(string directory, RewardModel model, TrainingState state)
    {
        RewardModelCheckpoint.Save(model, directory);
        TrainingStateFile.Write(Path.Combine(directory, TrainingStateFile.FileName), state);
    }

    /// <summary>Every file of <paramref name="directory"/> by name, with its bytes.</summary>
    private static Dictionary<string, byte[]> Contents(string directory) =>
        Directory.EnumerateFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [TestCase(Precision.F32)]
    [TestCase(Precision.BF16)]
    public void AStateRestoredFromTheMappedFileContinuesTrainingBitwise(Precision precision)
    {
        using WorldPMContext context = Context();
        using var dir = new TempDirectory();
        using var model = new RewardModel(context, Tiny, seed: 2, precision);
        using var trainer = new Trainer(context, model, Optimizer, totalSteps: 10);
        for (int step = 0; step < 3; step++) trainer.TrainStep(Batch(step));
        var saved = new TrainingState();
        trainer.SaveState(saved);
        WriteCheckpoint(dir.Path, model, saved);
        string path = dir.File(TrainingStateFile.FileName);

        using var resumedModel = new RewardModel(context, Tiny, seed: 9, precision);
        using var resumed = new Trainer(context, resumedModel, Optimizer, totalSteps: 10);
        using (ModelCheckpointReader reader = ModelCheckpoint.Open(dir.Path))
            RewardModelCheckpoint.LoadInto(resumedModel, reader);
        using (TrainingState opened = TrainingStateFile.Open(path))
            resumed.RestoreState(opened);

        // The file read eagerly into memory is the reference for what the restored trainer holds.
        TrainingState onDisk = TrainingStateFile.Read(path);
        var back = new TrainingState();
        resumed.SaveState(back);
        Assert.That(back.Tensors.Keys, Is.EquivalentTo(onDisk.Tensors.Keys));
        Assert.That(onDisk.Tensors.Keys, Has.Some.EndsWith(".adam_v"));
        Assert.That(onDisk.Tensors.Keys.Any(k => k.EndsWith(".master", StringComparison.Ordinal)), Is.EqualTo(precision != Precision.F32));
        foreach (var (name, tensor) in onDisk.Tensors)
        {
            var restored = new byte[tensor.ByteLength];
            back.Tensors[name].CopyTo(0, restored);
            Assert.That(restored, Is.EqualTo(tensor.Data), name);
        }
        Assert.That((resumed.Step, resumed.Updates), Is.EqualTo((trainer.Step, trainer.Updates)));

        for (int step = 3; step < 6; step++)
        {
            StepMetrics expected = trainer.TrainStep(Batch(step)), actual = resumed.TrainStep(Batch(step));
            Assert.That(BitConverter.DoubleToInt64Bits(actual.Loss), Is.EqualTo(BitConverter.DoubleToInt64Bits(expected.Loss)), $"loss of step {step + 1}");
        }
        Assert.That(resumedModel.ParameterValues.ToArray(), Is.EqualTo(model.ParameterValues.ToArray()), "master weights after three more steps");
    }

    [TestCase(2, TestName = "AStateWriteThatFailsHalfWayLeavesThePreviousCheckpointWhole(next step)")]
    [TestCase(1, TestName = "AStateWriteThatFailsHalfWayLeavesThePreviousCheckpointWhole(same step again)")]
    public void AStateWriteThatFailsHalfWayLeavesThePreviousCheckpointWhole(long failingStep)
    {
        using WorldPMContext context = Context();
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        using var model = new RewardModel(context, Tiny, seed: 2);
        using var trainer = new Trainer(context, model, Optimizer, totalSteps: 10);
        trainer.TrainStep(Batch(0));
        var first = new TrainingState();
        trainer.SaveState(first);
        string good = store.Save(1, d => WriteCheckpoint(d, model, first));
        Dictionary<string, byte[]> committed = Contents(good);

        trainer.TrainStep(Batch(1));
        var second = new TrainingState();
        trainer.SaveState(second);
        // A moment in the middle of the write order fails to read (a device error, or the disk filling up there):
        // the tensors before it are already in the temp file.
        List<string> order = [.. second.Tensors.Keys.Order(StringComparer.Ordinal)];
        TensorData victim = second.Tensors[order[order.Count / 2]];
        int piecesRead = 0;
        second.Add(TensorData.Streamed(victim.Name, victim.DType, victim.Shape, (offset, destination) =>
        {
            piecesRead++;
            throw new IOException("simulated failure half way through the training state");
        }));

        var error = Assert.Throws<IOException>(() => store.Save(failingStep, d => WriteCheckpoint(d, model, second)));

        Assert.That(error!.Message, Does.Contain("half way"));
        Assert.That(piecesRead, Is.EqualTo(1), "the failing tensor was reached");
        Assert.That(store.LatestStep(), Is.EqualTo(1));
        Assert.That(store.Steps(), Is.EqualTo(new[] { 1L }));
        Assert.That(Directory.GetDirectories(dir.Path, "*.tmp"), Is.Empty, "the interrupted save is cleaned up");
        Assert.That(Contents(good), Is.EquivalentTo(committed),
            "the committed checkpoint's files, byte for byte");

        // And it resumes: the restored moments are the ones of step 1.
        using var resumedModel = new RewardModel(context, Tiny, seed: 2);
        using var resumed = new Trainer(context, resumedModel, Optimizer, totalSteps: 10);
        using (TrainingState opened = TrainingStateFile.Open(Path.Combine(good, TrainingStateFile.FileName)))
            resumed.RestoreState(opened);
        Assert.That(resumed.Step, Is.EqualTo(1));
    }
}
