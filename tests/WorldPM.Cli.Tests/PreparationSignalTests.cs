using System.Diagnostics;
using System.Runtime.InteropServices;

namespace WorldPM.Cli.Tests;

/// <summary>
/// SIGTERM or SIGINT (Ctrl-C) while <c>train</c> prepares raw data on the fly: the process stops, removes its scratch
/// folder at once (not the orphan sweep of a later run) and exits 128 + the signal's number with a line saying so; and
/// while <c>prepare</c> writes a store: nothing is left beside or under its --out. A real child process and a real
/// signal, sent as soon as the scratch folder (or the store's temporary file) appears.
/// </summary>
[Platform(Exclude = "Win", Reason = "POSIX signals sent with kill(2)")]
public class PreparationSignalTests
{
    private const int Sigint = 2, Sigterm = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private TestFiles _files = null!;

    [SetUp]
    public void CreateFiles() => _files = new TestFiles();

    [TearDown]
    public void DeleteFiles() => _files.Dispose();

    [TestCase(Sigterm, "SIGTERM")]
    [TestCase(Sigint, "SIGINT")]
    public void ASignalWhilePreparingRemovesTheScratchFolderAndExitsInterrupted(int signal, string name)
    {
        // About 25 MB of pairs: seconds of preparation, far longer than the wait for its folder.
        string data = _files.WritePairs("many.jsonl", 200_000);
        string run = _files.PathOf("run");
        string[] args = ["train", data, "--out", run, "--config", _files.WriteTinyConfig(), "--max-length", "64", "--steps", "1"];
        using Process process = WorldpmProcess.Start(null, args);
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();

        var clock = Stopwatch.StartNew();
        string[] scratch = [];
        while (scratch.Length == 0 && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            scratch = Directory.Exists(run) ? Directory.GetDirectories(run, ".worldpm-prepared-*") : [];
            Thread.Sleep(10);
        }
        Assert.That(scratch, Has.Length.EqualTo(1), "the scratch folder appears while preparing");
        Assert.That(kill(process.Id, signal), Is.EqualTo(0), $"kill: errno {Marshal.GetLastPInvokeError()}");
        CliResult result = WorldpmProcess.Finish(process, output, error, TimeSpan.FromSeconds(60), args);

        Assert.That(result.ExitCode, Is.EqualTo(128 + signal), result.ToString);
        Assert.That(result.Error, Does.Contain($"interrupted by {name} while preparing data"));
        Assert.That(scratch[0], Does.Not.Exist);
        Assert.That(Directory.GetFileSystemEntries(run, ".worldpm-*"), Is.Empty, "no scratch or spill file left");
    }

    [TestCase(Sigterm, "SIGTERM")]
    [TestCase(Sigint, "SIGINT")]
    public void ASignalWhilePrepareWritesLeavesNoStoreAndNoTemporaryFile(int signal, string name)
    {
        string data = _files.WritePairs("many.jsonl", 200_000);
        string folder = _files.PathOf("stores");
        Directory.CreateDirectory(folder);
        string store = Path.Combine(folder, "pairs.store");
        string[] args = ["prepare", data, "--out", store, "--max-length", "64"];
        using Process process = WorldpmProcess.Start(null, args);
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();

        // The store is written to a hidden temporary file beside --out (renamed into place when complete); the command
        // makes other hidden files there first (a writability probe), so only the store's own one says it is preparing.
        const string temporary = ".pairs.store.worldpm-*.tmp";
        var clock = Stopwatch.StartNew();
        while (Directory.GetFiles(folder, temporary).Length == 0 && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
            Thread.Sleep(10);
        Assert.That(Directory.GetFiles(folder, temporary), Is.Not.Empty, "the store's temporary file appears while preparing");
        Assert.That(kill(process.Id, signal), Is.EqualTo(0), $"kill: errno {Marshal.GetLastPInvokeError()}");
        CliResult result = WorldpmProcess.Finish(process, output, error, TimeSpan.FromSeconds(60), args);

        Assert.That(result.ExitCode, Is.EqualTo(128 + signal), result.ToString);
        Assert.That(result.Error, Does.Contain($"interrupted by {name} while preparing {store}"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty, "no store, temporary or spill file left");
    }
}
