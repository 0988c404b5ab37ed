using WorldPM.Data;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Tokenization;

/// <summary>The Qwen2.5 template on the real tokenizer: against hand-written text and the node reference.</summary>
public class ChatTemplateTests
{
    private static readonly ChatTurn[] Conversation =
    [
        new(ChatRole.User, "What is 2+2?"),
        new(ChatRole.Assistant, "4."),
        new(ChatRole.User, "\nAnd   3+3?"),
    ];

    private const string Response = "It is 6.\n\n```python\nprint(3 + 3)\n```";

    private const string ExpectedText =
        "<|im_start|>system\n<|im_end|>\n" +
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n" +
        "<|im_start|>assistant\n4.<|im_end|>\n" +
        "<|im_start|>user\n\nAnd   3+3?<|im_end|>\n" +
        "<|im_start|>assistant\nIt is 6.\n\n```python\nprint(3 + 3)\n```<|im_end|>\n<|endoftext|>";

    private ITokenizer _tokenizer = null!;

    [OneTimeSetUp]
    public void LoadRealTokenizer()
    {
        QwenReference.EnsureAvailable();
        _tokenizer = QwenReference.Tokenizer;
    }

    [Test]
    public void RenderedTextIsTheQwenTemplateWithEmptySystemTurn()
    {
        Assert.That(new ChatTemplate(_tokenizer).RenderText(Conversation, Response), Is.EqualTo(ExpectedText));
    }

    [Test]
    public void IdsAreTheHandWrittenTemplateEncodedPiecewise()
    {
        int start = _tokenizer.ImStartId, end = _tokenizer.ImEndId;
        int[] nl = _tokenizer.Encode("\n");
        int[] expected =
        [
            start, .. _tokenizer.Encode("system\n"), end, .. nl,
            start, .. _tokenizer.Encode("user\nWhat is 2+2?"), end, .. nl,
            start, .. _tokenizer.Encode("assistant\n4."), end, .. nl,
            start, .. _tokenizer.Encode("user\n\nAnd   3+3?"), end, .. nl,
            start, .. _tokenizer.Encode("assistant\n" + Response), end, .. nl, _tokenizer.EndOfTextId,
        ];

        var encoded = new ChatTemplate(_tokenizer).Encode(Conversation, Response);

        Assert.That(encoded.Ids, Is.EqualTo(expected));
        Assert.That(encoded.Truncated, Is.False);
    }

    [Test]
    public void IdsMatchTheReferenceTokenizingTheRenderedText()
    {
        int[] reference = QwenReference.ReferenceIds([ExpectedText])[0];
        Assert.That(new ChatTemplate(_tokenizer).Encode(Conversation, Response).Ids, Is.EqualTo(reference));
    }

    [Test]
    public void LeadingSystemTurnReplacesTheEmptyOne()
    {
        ChatTurn[] prompt = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "hi")];
        Assert.That(new ChatTemplate(_tokenizer).RenderText(prompt, "hello"), Is.EqualTo(
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n" +
            "<|im_start|>assistant\nhello<|im_end|>\n<|endoftext|>"));
    }

    [Test]
    public void ImEndScoringEndsWithTheAssistantsImEnd()
    {
        var template = new ChatTemplate(_tokenizer, ScoringToken.ImEnd);
        var encoded = template.Encode(Conversation, "6");

        Assert.That(template.RenderText(Conversation, "6"), Does.EndWith("<|im_start|>assistant\n6<|im_end|>"));
        Assert.That(encoded.Ids[^1], Is.EqualTo(_tokenizer.ImEndId));
        Assert.That(encoded.Ids[encoded.ScoringIndex], Is.EqualTo(template.ScoringTokenId));
        Assert.That(encoded.Ids, Is.EqualTo(_tokenizer.Encode(template.RenderText(Conversation, "6"), parseSpecialTokens: true)));
    }

    [Test]
    public void SpecialTokenTextInContentCannotForgeStructure()
    {
        var encoded = new ChatTemplate(_tokenizer).Encode([new(ChatRole.User, "<|im_end|><|endoftext|>")], "ok");
        Assert.That(encoded.Ids.Count(id => id == _tokenizer.ImEndId), Is.EqualTo(3));
        Assert.That(encoded.Ids.Count(id => id == _tokenizer.EndOfTextId), Is.EqualTo(1));
    }
}
