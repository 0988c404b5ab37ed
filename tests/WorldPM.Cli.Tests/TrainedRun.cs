namespace WorldPM.Cli.Tests;

/// <summary>A tiny model trained for a few steps on generated pairs, for the commands that read checkpoints.</summary>
public sealed class TrainedRun : IDisposable
{
    public const int Pairs = 60;
    public const int Steps = 4;

    public TrainedRun()
    {
        Files = new TestFiles();
        Data = Files.WritePairs("pairs.jsonl", Pairs);
        RunDirectory = Files.PathOf("run");
        Worldpm.Succeed("train", Data, "--out", RunDirectory, "--config", Files.WriteTinyConfig(), "--max-length", "128",
            "--steps", Steps.ToString(), "--batch", "8", "--quiet");
        Checkpoint = Path.Combine(RunDirectory, $"step-{Steps}");
    }

    public TestFiles Files { get; }

    /// <summary>The generated training pairs (JSONL with subsets "big" and "small").</summary>
    public string Data { get; }

    /// <summary>The `--out` directory.</summary>
    public string RunDirectory { get; }

    /// <summary>The checkpoint directory of the last step.</summary>
    public string Checkpoint { get; }

    public void Dispose() => Files.Dispose();
}
