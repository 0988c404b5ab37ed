using WorldPM.Tokenization;

namespace WorldPM.Tests.Tokenization;

/// <summary>A tokenizer file that is not JSON is an error naming the file, not a bare parser message.</summary>
public class TokenizerFileErrorTests
{
    [Test]
    public void ABinaryTokenizerJsonIsNamed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"worldpm-binary-{Guid.NewGuid():N}.json");
        File.WriteAllBytes(path, [0xFB, 0x00, 0x13, 0x37, 0xFF, 0x10]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => ByteLevelBpeTokenizer.FromTokenizerJson(path));
            Assert.That(e!.Message, Does.StartWith($"{path}: not a JSON file"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
