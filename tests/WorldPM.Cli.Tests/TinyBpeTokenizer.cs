using System.Text.Json;

namespace WorldPM.Cli.Tests;

/// <summary>
/// Writes a minimal Qwen-style tokenizer directory: vocab.json with the 256 byte-level symbols (GPT-2's
/// byte-to-unicode mapping), one merge ("Ġ t" -> 256, i.e. " t"), and a tokenizer_config.json whose
/// added_tokens_decoder holds the three chat special tokens at 257..259: vocabulary 260.
/// </summary>
public static class TinyBpeTokenizer
{
    public const int VocabSize = 260;

    public static string Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; ++b) vocab[ByteSymbol(b).ToString()] = b;
        vocab["Ġt"] = 256;
        File.WriteAllText(Path.Combine(directory, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(directory, "merges.txt"), ["#version: 0.2", "Ġ t"]);
        var added = new Dictionary<string, object>
        {
            ["257"] = new { content = "<|endoftext|>", special = true },
            ["258"] = new { content = "<|im_start|>", special = true },
            ["259"] = new { content = "<|im_end|>", special = true },
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), JsonSerializer.Serialize(new { added_tokens_decoder = added }));
        return directory;
    }

    /// <summary>GPT-2's printable stand-in for byte <paramref name="b"/>: itself when printable, else 256 + its rank among the others.</summary>
    private static char ByteSymbol(int b)
    {
        static bool Printable(int x) => x is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        if (Printable(b)) return (char)b;
        return (char)(256 + Enumerable.Range(0, b).Count(x => !Printable(x)));
    }
}
