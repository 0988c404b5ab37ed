using System.Text.Json;

namespace WorldPM.Cli.Tests;

/// <summary>A temporary directory with the inputs the tests need: generated pairs and a tiny model config.</summary>
public sealed class TestFiles : IDisposable
{
    public TestFiles()
    {
        Root = Path.Combine(Path.GetTempPath(), "worldpm-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>
    /// A learnable rule: "which is larger" questions whose chosen answer is the larger number. Subset "big"
    /// when the larger number is at least 50, else "small"; the chosen answer is the longer one about half the
    /// time. Deterministic.
    /// </summary>
    public string WritePairs(string name, int count)
    {
        var random = new Random(7);
        var lines = Enumerable.Range(0, count).Select(_ =>
        {
            int a = random.Next(100), b = random.Next(100);
            if (a == b) b = (a + 1) % 100;
            int max = Math.Max(a, b), min = Math.Min(a, b);
            bool wordy = random.Next(2) == 0;
            return JsonSerializer.Serialize(new
            {
                prompt = $"Which is larger, {a} or {b}?",
                chosen = wordy ? $"The larger one is {max}." : $"{max}",
                rejected = wordy ? $"{min}" : $"The larger one is {min}.",
                subset = max >= 50 ? "big" : "small",
            });
        });
        string path = PathOf(name);
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>The pairs of <see cref="WritePairs"/> with a graded number field "gap" (0.1 times the line index
    /// modulo 5: 0 to 0.4), for --margin-from.</summary>
    public string WriteGradedPairs(string name, int count)
    {
        string plain = WritePairs("plain-" + name, count);
        string path = PathOf(name);
        File.WriteAllLines(path, File.ReadAllLines(plain).Select((line, i) =>
        {
            var record = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line)!;
            record["gap"] = JsonSerializer.SerializeToElement(GradedGap(i));
            return JsonSerializer.Serialize(record);
        }));
        return path;
    }

    /// <summary>The "gap" of line <paramref name="index"/> of <see cref="WriteGradedPairs"/>.</summary>
    public static double GradedGap(int index) => 0.1 * (index % 5);

    /// <summary>A d 16 model of <paramref name="layers"/> layers over the byte tokenizer, 128 positions.</summary>
    public string WriteTinyConfig(string name = "tiny.json", int layers = 1)
    {
        string path = PathOf(name);
        File.WriteAllText(path, $$"""
            {"vocab_size": 259, "hidden_size": 16, "num_hidden_layers": {{layers}}, "num_attention_heads": 2, "num_key_value_heads": 1,
             "intermediate_size": 32, "head_hidden_size": 16, "max_position_embeddings": 128, "rope_theta": 10000}
            """);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
