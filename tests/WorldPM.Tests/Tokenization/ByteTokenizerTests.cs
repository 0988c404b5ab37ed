using System.Text;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Tokenization;

public class ByteTokenizerTests
{
    private static readonly ByteTokenizer Tokenizer = ByteTokenizer.Instance;

    [Test]
    public void VocabularyIsBytesThenThreeSpecialTokens()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Tokenizer.VocabSize, Is.EqualTo(259));
            Assert.That(Tokenizer.EndOfTextId, Is.EqualTo(256));
            Assert.That(Tokenizer.ImStartId, Is.EqualTo(257));
            Assert.That(Tokenizer.ImEndId, Is.EqualTo(258));
            Assert.That(Tokenizer.TokenId("<|im_end|>"), Is.EqualTo(258));
            Assert.That(Tokenizer.TryGetTokenId("<think>", out _), Is.False);
        });
    }

    [Test]
    public void IdsAreTheUtf8Bytes()
    {
        const string text = "aé😀\n";
        Assert.That(Tokenizer.Encode(text), Is.EqualTo(Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray()));
    }

    [Test]
    public void RandomUnicodeRoundTrips()
    {
        var random = new Random(1234);
        for (int trial = 0; trial < 200; trial++)
        {
            var text = new StringBuilder();
            for (int i = random.Next(0, 40); i > 0; i--)
            {
                int codePoint;
                do
                    codePoint = random.Next(2) == 0 ? random.Next(0, 0x800) : random.Next(0, 0x110000);
                while (codePoint is >= 0xD800 and <= 0xDFFF);
                text.Append(char.ConvertFromUtf32(codePoint));
            }
            string s = text.ToString();
            Assert.That(Tokenizer.Decode(Tokenizer.Encode(s)), Is.EqualTo(s));
        }
    }

    [Test]
    public void SpecialTokensAreParsedOnlyWhenAsked()
    {
        Assert.That(Tokenizer.Encode("<|im_start|>hi<|im_end|><|endoftext|>", parseSpecialTokens: true),
            Is.EqualTo(new[] { 257, 'h', 'i', 258, 256 }));
        Assert.That(Tokenizer.Encode("<|im_end|>"), Has.Length.EqualTo("<|im_end|>".Length));
    }

    [Test]
    public void DecodeWritesOrSkipsSpecialTokens()
    {
        int[] ids = [257, 'h', 'i', 258, 256];
        Assert.That(Tokenizer.Decode(ids), Is.EqualTo("<|im_start|>hi<|im_end|><|endoftext|>"));
        Assert.That(Tokenizer.Decode(ids, skipSpecialTokens: true), Is.EqualTo("hi"));
    }

    [Test]
    public void DecodeRejectsIdsOutsideTheVocabulary()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([259]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([-1]));
    }
}
