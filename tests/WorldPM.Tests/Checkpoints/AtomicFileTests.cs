using WorldPM.Checkpoints;

namespace WorldPM.Tests.Checkpoints;

public class AtomicFileTests
{
    private static TensorData[] Weights(float value) => [TensorData.FromFloats("w", [256], Enumerable.Repeat(value, 256).ToArray())];

    private static string[] TempFiles(TempDirectory dir) =>
        Directory.EnumerateFiles(dir.Path).Select(Path.GetFileName).Where(n => AtomicFile.IsTempFile(n!)).ToArray()!;

    [Test]
    public void WriteFailingHalfwayLeavesTheOldFileIntactAndNoTempFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        SafeTensorsWriter.Write(path, Weights(1f));
        byte[] good = File.ReadAllBytes(path);

        Assert.Throws<IOException>(() =>
            AtomicFile.Write(path, stream => SafeTensorsWriter.WriteTo(new FailingStream(stream, failAfter: 300), Weights(2f))));

        Assert.That(File.ReadAllBytes(path), Is.EqualTo(good));
        Assert.That(SafeTensorsFile.ReadAll(path).Single().ToFloats(), Is.All.EqualTo(1f));
        Assert.That(TempFiles(dir), Is.Empty);
    }

    [Test]
    public void OrphanedTempFileOfAKilledWriterIsIgnoredByLoadersAndRemovedByTheNextWrite()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.safetensors");
        SafeTensorsWriter.Write(path, Weights(1f));
        string orphan = dir.File(".model.safetensors.worldpm-0123456789abcdef.tmp");
        File.WriteAllBytes(orphan, [1, 2, 3]);
        Assert.That(AtomicFile.IsTempFile(Path.GetFileName(orphan)));

        Assert.That(SafeTensorsFile.ReadAll(path).Single().ToFloats(), Is.All.EqualTo(1f));
        SafeTensorsWriter.Write(path, Weights(3f));
        Assert.That(File.Exists(orphan), Is.False);
        Assert.That(SafeTensorsFile.ReadAll(path).Single().ToFloats(), Is.All.EqualTo(3f));
    }

    [Test]
    public void SuccessfulWriteReplacesTheContent()
    {
        using var dir = new TempDirectory();
        string path = dir.File("latest");
        AtomicFile.WriteAllText(path, "step-1\n");
        AtomicFile.WriteAllText(path, "step-2\n");

        Assert.That(File.ReadAllText(path), Is.EqualTo("step-2\n"));
        Assert.That(TempFiles(dir), Is.Empty);
    }

    [Test]
    public void DirectoryIsFsyncedOnLinux()
    {
        Assume.That(OperatingSystem.IsLinux());
        using var dir = new TempDirectory();
        Assert.That(DirectorySync.Flush(dir.Path), Is.True);
    }
}
