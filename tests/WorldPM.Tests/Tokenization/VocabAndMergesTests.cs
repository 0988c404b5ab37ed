using System.Text.Json;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Tokenization;

/// <summary>
/// Loading <c>vocab.json</c> + <c>merges.txt</c> gives the same tokenizer as <c>tokenizer.json</c>;
/// both files are written here from the real tokenizer.json, and the merges are also tried in the
/// "a b" string form inside a tokenizer.json.
/// </summary>
public class VocabAndMergesTests
{
    private static readonly string[] Texts =
    [
        "Hello, world! def f(x):\n\treturn x  *  2\n",
        "我喜欢机器学习 😀 Cafe\u0301 12345",
        "<tool_call>call</tool_call>   trailing  ",
    ];

    private string _work = null!;
    private JsonElement _json;

    [OneTimeSetUp]
    public void WriteFilesFromTheRealTokenizer()
    {
        QwenReference.EnsureAvailable();
        _work = Directory.CreateTempSubdirectory("worldpm-vocab-merges-").FullName;
        using var document = JsonDocument.Parse(File.ReadAllBytes(QwenReference.TokenizerJsonPath));
        _json = document.RootElement.Clone();
    }

    [OneTimeTearDown]
    public void RemoveFiles()
    {
        if (_work is not null)  // null when the set-up was skipped (no npm registry) before making it
            Directory.Delete(_work, recursive: true);
    }

    [Test]
    public void VocabAndMergesEncodeLikeTokenizerJson()
    {
        var model = _json.GetProperty("model");
        string vocab = Path.Combine(_work, "vocab.json");
        File.WriteAllText(vocab, model.GetProperty("vocab").GetRawText());
        string merges = Path.Combine(_work, "merges.txt");
        File.WriteAllLines(merges, ["#version: 0.2", .. model.GetProperty("merges").EnumerateArray().Select(MergeLine)]);

        var tokenizer = ByteLevelBpeTokenizer.FromVocabAndMerges(vocab, merges, tokenizerConfigPath: QwenReference.TokenizerConfigPath);

        Assert.That(tokenizer.VocabSize, Is.EqualTo(QwenReference.Tokenizer.VocabSize));
        Assert.That(tokenizer.ImEndId, Is.EqualTo(151645));
        AssertSameIds(tokenizer);
    }

    [Test]
    public void StringFormMergesInTokenizerJsonEncodeLikeArrayForm()
    {
        string path = Path.Combine(_work, "tokenizer-string-merges.json");
        using (var stream = File.Create(path))
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var property in _json.EnumerateObject())
            {
                if (property.Name != "model")
                {
                    property.WriteTo(writer);
                    continue;
                }
                writer.WriteStartObject("model");
                foreach (var field in property.Value.EnumerateObject().Where(f => f.Name != "merges"))
                    field.WriteTo(writer);
                writer.WriteStartArray("merges");
                foreach (var merge in property.Value.GetProperty("merges").EnumerateArray())
                    writer.WriteStringValue(MergeLine(merge));
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        AssertSameIds(ByteLevelBpeTokenizer.FromTokenizerJson(path));
    }

    private static string MergeLine(JsonElement merge) =>
        merge.ValueKind == JsonValueKind.String ? merge.GetString()! : $"{merge[0].GetString()} {merge[1].GetString()}";

    private static void AssertSameIds(ITokenizer tokenizer)
    {
        Assert.Multiple(() =>
        {
            foreach (string text in Texts)
                Assert.That(tokenizer.Encode(text), Is.EqualTo(QwenReference.Tokenizer.Encode(text)), text);
        });
    }
}
