using System.Text.Json;
using WorldPM.Data;

namespace WorldPM.Tests.Checkpoints;

/// <summary>
/// The independent PyTorch reference of tests/reference/make_checkpoints.py: small random checkpoints in Hugging Face
/// layout (one directory per variant) and, per conversation, the ids, the last hidden state at the scoring token and
/// the reward it computes in float64. Made once per test run into a temporary directory with Debian's python3-torch
/// (scripts/setup.sh installs it). Where <c>import torch</c> fails the calling fixture is skipped with the reason; a
/// failure of the script itself fails it.
/// </summary>
internal sealed class TorchReference : IDisposable
{
    private const string Python = "/usr/bin/python3";

    private TorchReference(string directory) => Directory = directory;

    /// <summary>The directory holding one checkpoint directory per variant.</summary>
    public string Directory { get; }

    /// <summary>The checkpoint directory of <paramref name="variant"/> (qwen2, qwen2-bf16, llama, qwen2-base).</summary>
    public string Checkpoint(string variant) => Path.Combine(Directory, variant);

    /// <summary>What the reference computed for <paramref name="variant"/>'s conversations.</summary>
    public IReadOnlyList<Case> Cases(string variant)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Checkpoint(variant), "reference.json")));
        return [.. document.RootElement.GetProperty("cases").EnumerateArray().Select(Case.Read)];
    }

    /// <summary>Runs the script into a new temporary directory (skipping the fixture where torch is missing).</summary>
    public static TorchReference Make()
    {
        string script = Path.Combine(SharedData.RepositoryRoot, "tests", "reference", "make_checkpoints.py");
        if (TorchProblem() is string problem)
            Assert.Ignore($"python3-torch is not installed, so the PyTorch reference checkpoints are not made: {problem}");
        string directory = System.IO.Directory.CreateTempSubdirectory("worldpm-torch-ref-").FullName;
        var (exit, stdout, stderr) = ChildProcess.Run(Python, ["-B", script, directory], directory, TimeSpan.FromMinutes(5));
        if (exit != 0)
        {
            System.IO.Directory.Delete(directory, recursive: true);
            Assert.Fail($"{script} failed (exit {exit}):\n{stdout}\n{stderr}");
        }
        return new TorchReference(directory);
    }

    /// <summary>Why torch cannot be imported, on one line; null when it can.</summary>
    private static string? TorchProblem()
    {
        try
        {
            var (exit, _, stderr) = ChildProcess.Run(Python, ["-c", "import torch"], Path.GetTempPath(), TimeSpan.FromMinutes(3));
            return exit == 0 ? null : ChildProcess.OneLine(stderr.Split('\n').LastOrDefault(l => l.Trim().Length > 0) ?? $"exit {exit}");
        }
        catch (InvalidOperationException e)
        {
            return ChildProcess.OneLine(e.Message);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    /// <summary>One conversation of the reference: the prompt turns, the response, and what the reference computed (no
    /// reward for a checkpoint without a head).</summary>
    public sealed record Case(IReadOnlyList<ChatTurn> Prompt, string Response, int[] Ids, double[] Hidden, double? Reward)
    {
        public static Case Read(JsonElement c) => new(
            [.. c.GetProperty("prompt").EnumerateArray().Select(t => new ChatTurn(Role(t.GetProperty("role").GetString()), t.GetProperty("content").GetString()!))],
            c.GetProperty("response").GetString()!,
            [.. c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32())],
            [.. c.GetProperty("hidden").EnumerateArray().Select(v => v.GetDouble())],
            c.GetProperty("reward").ValueKind == JsonValueKind.Null ? null : c.GetProperty("reward").GetDouble());

        private static ChatRole Role(string? name) => name switch
        {
            "system" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            _ => throw new InvalidDataException($"reference.json: unknown role '{name}'"),
        };
    }
}
