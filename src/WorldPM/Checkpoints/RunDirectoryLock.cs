namespace WorldPM.Checkpoints;

/// <summary>
/// One writer per run directory: the training process that writes checkpoints holds an exclusive lock on
/// <c>train.lock</c> in it for as long as it runs, so a second <c>train</c> on the same directory fails at once
/// instead of both overwriting each other's checkpoints. The operating system drops the lock when its process dies,
/// so a killed run never leaves a stale lock; <c>train.lock.owner</c> names the holder (pid, host, start) for the
/// message the second process prints.
/// </summary>
public sealed class RunDirectoryLock : IDisposable
{
    public const string LockFileName = "train.lock";
    public const string OwnerFileName = "train.lock.owner";

    private readonly FileStream _lock;

    private RunDirectoryLock(FileStream held) => _lock = held;

    /// <summary>Takes the lock of <paramref name="directory"/> (created if missing).</summary>
    /// <exception cref="RunDirectoryBusyException">Another process holds it.</exception>
    public static RunDirectoryLock Acquire(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        string lockPath = Path.Combine(directory, LockFileName), ownerPath = Path.Combine(directory, OwnerFileName);
        FileStream held;
        try
        {
            // FileShare.None is an exclusive advisory lock (flock) on Unix and a sharing lock on Windows.
            held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            string owner = File.Exists(ownerPath) ? File.ReadAllText(ownerPath).Trim() : "owner unknown";
            throw new RunDirectoryBusyException(directory, owner, e);
        }
        AtomicFile.WriteAllText(ownerPath,
            $"pid {Environment.ProcessId} on {Environment.MachineName}, since {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC\n");
        return new RunDirectoryLock(held);
    }

    public void Dispose() => _lock.Dispose();
}

/// <summary>A run directory another training process is writing to.</summary>
public sealed class RunDirectoryBusyException(string directory, string owner, Exception inner)
    : IOException($"run directory '{directory}' is in use by another training process ({owner}); wait for it to end or choose another --out", inner)
{
    public string Directory => directory;
}
