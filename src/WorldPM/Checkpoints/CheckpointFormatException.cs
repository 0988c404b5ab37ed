namespace WorldPM.Checkpoints;

/// <summary>
/// A checkpoint file or directory is malformed, corrupted or does not hold what the caller expects.
/// The message always starts with the path that was being read, then says what was wrong with it.
/// </summary>
public class CheckpointFormatException : IOException
{
    /// <summary>Creates the exception for <paramref name="path"/> with the <paramref name="problem"/> found there.</summary>
    public CheckpointFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file or directory that was being read.</summary>
    public string Path { get; }

    /// <summary>What was wrong, without the path.</summary>
    public string Problem { get; }
}
