using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Parquet.Schema;
using Parquet.Serialization;
using WorldPM.Checkpoints;
using WorldPM.Data;
using WorldPM.Model;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Fuzzing;

/// <summary>
/// One reader under the fuzz loop: the files it reads (valid seeds, one of which each input mutates), how it is
/// called on a folder holding them, and the exception types its documentation lets escape on bad input.
/// </summary>
public sealed record ReaderTarget(
    string Name, IReadOnlyList<(string File, byte[] Bytes)> Seeds, Action<string> Read, IReadOnlyList<Type> Documented)
{
    public override string ToString() => Name;

    /// <summary>Whether <paramref name="e"/> is one of the documented types (or derives from one).</summary>
    public bool IsDocumented(Exception e) => Documented.Any(t => t.IsInstanceOfType(e));

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private const string JsonlPairs =
        """
        {"prompt": "2+2?", "chosen": "4", "rejected": "5"}
        {"prompt": [{"role": "user", "content": "Sky?"}], "chosen": "Blue", "rejected": "Green", "weight": 0.5}

        """;

    /// <summary>PreferenceDataset.Load on each format it detects; bad records are counted, damaged files are errors.</summary>
    private static ReaderTarget Data(string name, string file, byte[] seed) =>
        new(name, [(file, seed)], folder => PreferenceDataset.Load(Path.Combine(folder, file)),
            [typeof(DataFormatException), typeof(InvalidDataException)]);

    private static byte[] Gzip(byte[] plain)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest))
            gzip.Write(plain);
        return memory.ToArray();
    }

    private static byte[] ParquetPairs()
    {
        var schema = new ParquetSchema(new DataField<string>("prompt"), new DataField<string>("chosen"), new DataField<string>("rejected"));
        var rows = new List<IDictionary<string, object?>>
        {
            new Dictionary<string, object?> { ["prompt"] = "2+2?", ["chosen"] = "4", ["rejected"] = "5" },
            new Dictionary<string, object?> { ["prompt"] = "Sky?", ["chosen"] = "Blue", ["rejected"] = "Green" },
        };
        using var memory = new MemoryStream();
        ParquetSerializer.SerializeUntypedAsync(rows, schema, memory).GetAwaiter().GetResult();
        return memory.ToArray();
    }

    /// <summary>GPT-2's printable stand-in for a byte, the alphabet of a byte-level vocabulary.</summary>
    private static string ByteSymbol(int b)
    {
        static bool Printable(int x) => x is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        return ((char)(Printable(b) ? b : 256 + Enumerable.Range(0, b).Count(x => !Printable(x)))).ToString();
    }

    private static Dictionary<string, int> ByteVocabulary()
    {
        var vocab = Enumerable.Range(0, 256).ToDictionary(ByteSymbol, b => b);
        vocab["Ġt"] = 256;
        return vocab;
    }

    private static object[] ChatTokens() =>
    [
        new { id = 257, content = SpecialTokens.EndOfText, special = true },
        new { id = 258, content = SpecialTokens.ImStart, special = true },
        new { id = 259, content = SpecialTokens.ImEnd, special = true },
    ];

    private static byte[] TokenizerJson() => JsonSerializer.SerializeToUtf8Bytes(new
    {
        model = new { type = "BPE", vocab = ByteVocabulary(), merges = new[] { new[] { "Ġ", "t" } } },
        pre_tokenizer = new
        {
            type = "Sequence",
            pretokenizers = new object[]
            {
                new { type = "Split", pattern = new { Regex = QwenPreTokenizer.Pattern }, behavior = "Isolated" },
                new { type = "ByteLevel", add_prefix_space = false },
            },
        },
        added_tokens = ChatTokens(),
    });

    private static TensorData[] Tensors() =>
    [
        TensorData.FromFloats("embed.weight", [3, 2], [1, 2, 3, 4, 5, 6]),
        TensorData.FromFloats("norm.weight", [2], [1, 1], TensorDType.BF16),
    ];

    private static byte[] SafeTensors()
    {
        using var memory = new MemoryStream();
        SafeTensorsWriter.WriteTo(memory, Tensors(), new Dictionary<string, string> { ["format"] = "pt" });
        return memory.ToArray();
    }

    private static IReadOnlyList<(string, byte[])> Checkpoint()
    {
        var folder = Directory.CreateTempSubdirectory("worldpm-fuzz-seed-").FullName;
        try
        {
            ModelCheckpoint.Write(folder, Tensors(), ModelConfig.Small(260, 16).ToJson());
            return Directory.GetFiles(folder).Order(StringComparer.Ordinal)
                .Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void ReadEveryTensor(ModelCheckpointReader reader)
    {
        foreach (var tensor in reader.Tensors.ToList())
            reader.Read(tensor.Name);
    }

    /// <summary>Every reader of files a user hands the library.</summary>
    public static IReadOnlyList<ReaderTarget> All() =>
    [
        Data("data-jsonl", "pairs.jsonl", Utf8(JsonlPairs)),
        Data("data-json", "pairs.json", Utf8("""[{"prompt": "2+2?", "chosen": "4", "rejected": "5"}, {"prompt": "Sky?", "chosen": "Blue", "rejected": "Green"}]""")),
        Data("data-xml", "Posts.xml", Utf8("""
            <?xml version="1.0" encoding="utf-8"?>
            <posts>
              <row Id="10" PostTypeId="1" AcceptedAnswerId="11" Score="7" Title="Stouts?" Body="&lt;p&gt;Why?&lt;/p&gt;" />
              <row Id="11" PostTypeId="2" ParentId="10" Score="2" Body="&lt;p&gt;Roast.&lt;/p&gt;" />
              <row Id="12" PostTypeId="2" ParentId="10" Score="3" Body="&lt;p&gt;Malt.&lt;/p&gt;" />
            </posts>
            """)),
        Data("data-parquet", "pairs.parquet", ParquetPairs()),
        Data("data-gzip", "pairs.jsonl.gz", Gzip(Utf8(JsonlPairs))),
        new("model-config", [("config.json", Utf8(ModelConfig.Small(260, 16).ToJson()))],
            folder => ModelConfig.FromJson(File.ReadAllText(Path.Combine(folder, "config.json"))),
            [typeof(JsonException), typeof(ArgumentException), typeof(NotSupportedException)]),
        new("tokenizer-json", [("tokenizer.json", TokenizerJson())],
            folder => ByteLevelBpeTokenizer.FromTokenizerJson(Path.Combine(folder, "tokenizer.json")),
            [typeof(InvalidDataException), typeof(NotSupportedException)]),
        new("vocab-merges",
            [("vocab.json", JsonSerializer.SerializeToUtf8Bytes(ByteVocabulary())), ("merges.txt", Utf8("#version: 0.2\nĠ t\n")),
             ("tokenizer_config.json", JsonSerializer.SerializeToUtf8Bytes(new
             {
                 added_tokens_decoder = ChatTokens().Select((t, i) => (t, i)).ToDictionary(p => (257 + p.i).ToString(), p => p.t),
             }))],
            folder => ByteLevelBpeTokenizer.FromVocabAndMerges(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"),
                tokenizerConfigPath: Path.Combine(folder, "tokenizer_config.json")),
            [typeof(InvalidDataException), typeof(NotSupportedException)]),
        new("safetensors", [("model.safetensors", SafeTensors())],
            folder => SafeTensorsFile.ReadAll(Path.Combine(folder, "model.safetensors")),
            [typeof(CheckpointFormatException)]),
        new("checkpoint", Checkpoint(), folder =>
            {
                using var reader = ModelCheckpoint.Open(folder);
                ReadEveryTensor(reader);
            },
            [typeof(CheckpointFormatException)]),
    ];
}
