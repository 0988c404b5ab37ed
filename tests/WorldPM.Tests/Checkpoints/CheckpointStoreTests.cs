using WorldPM.Checkpoints;

namespace WorldPM.Tests.Checkpoints;

public class CheckpointStoreTests
{
    private const string Config = """{"hidden_size": 4}""";

    private static void WriteCheckpoint(string directory, long step)
    {
        ModelCheckpoint.Write(directory, [TensorData.FromFloats("w", [4], [step, step, step, step])], Config);
        TrainingStateFile.Write(Path.Combine(directory, TrainingStateFile.FileName), new TrainingState { Step = step });
    }

    private static float WeightIn(string directory)
    {
        using var reader = ModelCheckpoint.Open(directory);
        return reader.Read("w").ToFloats()[0];
    }

    [Test]
    public void EmptyRunHasNoLatestCheckpoint()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        Assert.That(store.LatestStep(), Is.Null);
        Assert.That(store.LatestDirectory(), Is.Null);
    }

    [Test]
    public void SaveCommitsTheStepDirectoryAndPointsLatestAtIt()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        store.Save(100, d => WriteCheckpoint(d, 100));
        string final = store.Save(200, d => WriteCheckpoint(d, 200));

        Assert.That(final, Is.EqualTo(dir.File("step-200")));
        Assert.That(File.ReadAllText(dir.File(CheckpointStore.LatestFileName)), Is.EqualTo("step-200\n"));
        Assert.That(store.LatestStep(), Is.EqualTo(200));
        Assert.That(store.Steps(), Is.EqualTo(new[] { 100L, 200L }));
        Assert.That(WeightIn(store.LatestDirectory()!), Is.EqualTo(200f));
        Assert.That(TrainingStateFile.Read(Path.Combine(final, TrainingStateFile.FileName)).Step, Is.EqualTo(200));
        Assert.That(Directory.GetDirectories(dir.Path, "*.tmp"), Is.Empty);
    }

    [Test]
    public void SaveInterruptedWhileWritingLeavesTheLastGoodCheckpointAsLatest()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        store.Save(100, d => WriteCheckpoint(d, 100));

        Assert.Throws<IOException>(() => store.Save(200, d =>
        {
            WriteCheckpoint(d, 200);
            throw new IOException("simulated crash after the weights");
        }));

        Assert.That(store.LatestStep(), Is.EqualTo(100));
        Assert.That(WeightIn(store.LatestDirectory()!), Is.EqualTo(100f));
        Assert.That(Directory.Exists(dir.File("step-200")), Is.False);
        Assert.That(Directory.Exists(dir.File("step-200.tmp")), Is.False);
    }

    [Test]
    public void TempDirectoryOfAKilledSaveIsIgnoredAndRemovedByTheNextSave()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        store.Save(100, d => WriteCheckpoint(d, 100));
        Directory.CreateDirectory(dir.File("step-300.tmp"));
        File.WriteAllText(dir.File("step-300.tmp/config.json"), "{ half written");

        Assert.That(store.LatestStep(), Is.EqualTo(100));
        Assert.That(store.Steps(), Is.EqualTo(new[] { 100L }));
        store.Save(200, d => WriteCheckpoint(d, 200));
        Assert.That(Directory.Exists(dir.File("step-300.tmp")), Is.False);
    }

    [Test]
    public void LatestPointerWriteThatFailsKeepsTheOldPointer()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        store.Save(100, d => WriteCheckpoint(d, 100));
        string pointer = dir.File(CheckpointStore.LatestFileName);

        Assert.Throws<IOException>(() => AtomicFile.Write(pointer, s => new FailingStream(s, failAfter: 3).Write("step-999\n"u8)));

        Assert.That(File.ReadAllText(pointer), Is.EqualTo("step-100\n"));
        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName), Is.EqualTo(new[] { CheckpointStore.LatestFileName }));
        Assert.That(store.LatestStep(), Is.EqualTo(100));
    }

    [Test]
    public void PointerToAVanishedStepOrNoPointerFallsBackToTheNewestCompleteStep()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        store.Save(100, d => WriteCheckpoint(d, 100));
        store.Save(200, d => WriteCheckpoint(d, 200));
        File.Delete(dir.File(CheckpointStore.LatestFileName));
        Directory.Delete(dir.File("step-200"), recursive: true);
        File.WriteAllText(dir.File(CheckpointStore.LatestFileName), "step-200\n");

        Assert.That(store.LatestStep(), Is.EqualTo(100), "a pointer to a vanished step falls back to the newest existing one");
        File.Delete(dir.File(CheckpointStore.LatestFileName));
        Assert.That(store.LatestStep(), Is.EqualTo(100), "no pointer at all: the newest step directory");
    }

    [Test]
    public void SavingTheSameStepAgainReplacesIt()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path);
        store.Save(100, d => WriteCheckpoint(d, 1));
        store.Save(100, d => WriteCheckpoint(d, 2));

        Assert.That(WeightIn(store.LatestDirectory()!), Is.EqualTo(2f));
        Assert.That(Directory.GetDirectories(dir.Path).Select(Path.GetFileName), Is.EqualTo(new[] { "step-100" }));
    }

    [Test]
    public void KeepLastPrunesOlderCheckpoints()
    {
        using var dir = new TempDirectory();
        var store = new CheckpointStore(dir.Path, keepLast: 2);
        foreach (long step in new[] { 1L, 2, 3, 4 })
            store.Save(step, d => WriteCheckpoint(d, step));

        Assert.That(store.Steps(), Is.EqualTo(new[] { 3L, 4L }));
    }

    [Test]
    public void OnlyCanonicalStepDirectoriesCount()
    {
        using var dir = new TempDirectory();
        foreach (var name in new[] { "step-007", "step-x", "step-5.tmp", "other" })
            Directory.CreateDirectory(dir.File(name));
        Assert.That(new CheckpointStore(dir.Path).Steps(), Is.Empty);
    }
}
