using System.Text;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Tokenization;

/// <summary>Our byte-level BPE on the real Qwen tokenizer.json, against the node reference.</summary>
public class QwenTokenizerTests
{
    /// <summary>Plain text: no added tokens, or only Qwen's non-special ones (always matched).</summary>
    private static readonly string[] Texts =
    [
        "",
        "Hello, world! This is a test of the tokenizer.",
        "The quick brown fox's jumps; it's 3:45pm. I'LL say you're fine, we've, they'd, I'm.",
        "def f(x):\n\treturn x  *  2\n\n\n    if x:\n        pass\r\n\tprint(\"done\")  # tab\there\n",
        "1234567890 3.14159 -42 1e-9 2025-11-23 $1,000,000.00 0x1F",
        "Emoji 😀👍🏽 👨‍👩‍👧‍👦 ❤️ 🇯🇵!!",
        "我喜欢机器学习。日本語のテキスト、한국어 텍스트입니다.",
        "Cafe\u0301 nai\u0308ve re\u0301sume\u0301 A\u030Angstro\u0308m vs Café naïve",
        "a    b\t\t\tc\n\n\n\nd   \n  e      ",
        "   leading and trailing   ",
        "HELLO'S 'quoted' \"double\" <tag attr=\"v\"/> https://example.com/p?q=1&r=2",
        "a\U00020000b \U0001D49C\U0001D4B7",
        "<think>reasoning</think> then <tool_call>{\"x\": 1}</tool_call>",
    ];

    /// <summary>Text with special tokens, encoded with special-token parsing on.</summary>
    private static readonly string[] SpecialTexts =
    [
        "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nhi there<|im_end|>\n<|endoftext|>",
        "x<|im_end|><|im_end|>\n\n<|im_start|>",
    ];

    private ByteLevelBpeTokenizer _tokenizer = null!;

    [OneTimeSetUp]
    public void LoadRealTokenizer()
    {
        QwenReference.EnsureAvailable();
        _tokenizer = QwenReference.Tokenizer;
    }

    [Test]
    public void KnownChatIdsMatchQwen()
    {
        Assert.That(_tokenizer.Encode("<|im_start|>user\nhi<|im_end|>", parseSpecialTokens: true),
            Is.EqualTo(new[] { 151644, 872, 198, 6023, 151645 }));
    }

    [Test]
    public void SpecialTokensHaveQwenIds()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_tokenizer.EndOfTextId, Is.EqualTo(151643));
            Assert.That(_tokenizer.ImStartId, Is.EqualTo(151644));
            Assert.That(_tokenizer.ImEndId, Is.EqualTo(151645));
            Assert.That(_tokenizer.TokenId("<|im_end|>"), Is.EqualTo(151645));
            Assert.That(_tokenizer.TokenId("<think>"), Is.EqualTo(151667));
            Assert.That(_tokenizer.TryGetTokenId("<|nonexistent|>", out _), Is.False);
            Assert.That(_tokenizer.VocabSize, Is.EqualTo(151669));
        });
    }

    [Test]
    public void PlainTextIdsMatchReference()
    {
        var expected = QwenReference.ReferenceIds(Texts);
        Assert.Multiple(() =>
        {
            for (int i = 0; i < Texts.Length; i++)
                Assert.That(_tokenizer.Encode(Texts[i]), Is.EqualTo(expected[i]), $"text {i}: {Texts[i]}");
        });
    }

    [Test]
    public void ParsedSpecialTokenIdsMatchReference()
    {
        var expected = QwenReference.ReferenceIds(SpecialTexts);
        Assert.Multiple(() =>
        {
            for (int i = 0; i < SpecialTexts.Length; i++)
                Assert.That(_tokenizer.Encode(SpecialTexts[i], parseSpecialTokens: true), Is.EqualTo(expected[i]), SpecialTexts[i]);
        });
    }

    [Test]
    public void SpecialTokenTextIsOrdinaryTextUnlessParsingIsAsked()
    {
        int[] ids = _tokenizer.Encode("<|im_end|>");
        Assert.That(ids, Has.Length.GreaterThan(1));
        Assert.That(ids, Has.None.EqualTo(_tokenizer.ImEndId));
        Assert.That(_tokenizer.Decode(ids), Is.EqualTo("<|im_end|>"));
    }

    [Test]
    public void DecodeRoundTripsToNfcText()
    {
        Assert.Multiple(() =>
        {
            foreach (string text in Texts)
                Assert.That(_tokenizer.Decode(_tokenizer.Encode(text)), Is.EqualTo(text.Normalize(NormalizationForm.FormC)));
        });
    }

    [Test]
    public void DecodeWritesOrSkipsSpecialTokens()
    {
        int[] ids = _tokenizer.Encode(SpecialTexts[0], parseSpecialTokens: true);
        Assert.That(_tokenizer.Decode(ids), Is.EqualTo(SpecialTexts[0]));
        Assert.That(_tokenizer.Decode(ids, skipSpecialTokens: true), Is.EqualTo("system\n\nuser\nhi there\n"));
    }

    [Test]
    public void EncodingFromManyThreadsGivesTheSameIds()
    {
        var expected = Texts.Select(t => _tokenizer.Encode(t)).ToArray();
        var results = new int[Texts.Length * 50][];
        Parallel.For(0, results.Length, i => results[i] = _tokenizer.Encode(Texts[i % Texts.Length]));
        Assert.That(results.Select((ids, i) => ids.SequenceEqual(expected[i % Texts.Length])), Has.All.True);
    }

    [Test]
    public void DecodeRejectsUnknownIds()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _tokenizer.Decode([1, 10_000_000]));
    }
}
