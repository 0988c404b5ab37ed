using WorldPM.Data;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Tokenization;

/// <summary>
/// Cutting to a maximum length, on the byte tokenizer (one id per ASCII character, so lengths are
/// easy to count by hand). Untruncated, <c>Sequence("abcdefghij", "RESP")</c> is 46 tokens: system turn
/// 10 (<c>&lt;|im_start|&gt;</c> + "system\n" + <c>&lt;|im_end|&gt;</c> + "\n"), user turn 18, response 18.
/// </summary>
public class TruncationTests
{
    private const string System = "<|im_start|>system\n<|im_end|>\n";
    private const string Tail = "<|im_end|>\n<|endoftext|>";

    private static readonly ChatTemplate Template = new(ByteTokenizer.Instance);

    private static string Text(EncodedSequence s) => ByteTokenizer.Instance.Decode(s.Ids);

    private static ChatTurn[] User(string content) => [new(ChatRole.User, content)];

    [Test]
    public void SequenceThatFitsIsUntouched()
    {
        var encoded = Template.Encode(User("abcdefghij"), "RESP", maxLength: 46);
        Assert.That(encoded.Ids, Has.Length.EqualTo(46));
        Assert.That(encoded.Truncated, Is.False);
    }

    [Test]
    public void PromptLosesItsOldestTokensFirst()
    {
        var encoded = Template.Encode(User("abcdefghij"), "RESP", maxLength: 43);

        Assert.That(Text(encoded), Is.EqualTo(System + "<|im_start|>user\ndefghij<|im_end|>\n<|im_start|>assistant\nRESP" + Tail));
        Assert.That(encoded.PromptTruncated, Is.True);
        Assert.That(encoded.ResponseTruncated, Is.False);
    }

    [Test]
    public void OldestTurnIsDroppedWholeBeforeNewerTurnsAreCut()
    {
        ChatTurn[] prompt = [new(ChatRole.User, "old question"), new(ChatRole.Assistant, "old answer"), new(ChatRole.User, "new")];
        int full = Template.Encode(prompt, "RESP").Ids.Length;

        // The first user turn is 20 tokens; 4 more come out of "old answer".
        var encoded = Template.Encode(prompt, "RESP", maxLength: full - 24);

        Assert.That(Text(encoded), Is.EqualTo(System +
            "<|im_start|>assistant\nanswer<|im_end|>\n<|im_start|>user\nnew<|im_end|>\n<|im_start|>assistant\nRESP" + Tail));
        Assert.That(encoded.Ids, Has.Length.EqualTo(full - 24));
    }

    [Test]
    public void ResponseIsCutFromItsEndOnlyAfterThePromptIsGone()
    {
        var encoded = Template.Encode(User("abcdefghij"), "RESP", maxLength: 25);

        Assert.That(Text(encoded), Is.EqualTo(System + "<|im_start|>assistant\nR" + Tail));
        Assert.That(encoded.PromptTruncated, Is.True);
        Assert.That(encoded.ResponseTruncated, Is.True);
    }

    [TestCase(46)]
    [TestCase(40)]
    [TestCase(27)]
    [TestCase(19)]
    [TestCase(5)]
    [TestCase(1)]
    public void ScoringTokenIsAlwaysLastAndLengthNeverExceedsTheLimit(int maxLength)
    {
        foreach (var scoring in new[] { ScoringToken.EndOfText, ScoringToken.ImEnd })
        {
            var template = new ChatTemplate(ByteTokenizer.Instance, scoring);
            var encoded = template.Encode(User("abcdefghij"), "RESP", maxLength);
            Assert.That(encoded.Ids, Has.Length.LessThanOrEqualTo(maxLength));
            Assert.That(encoded.Ids[^1], Is.EqualTo(template.ScoringTokenId));
        }
    }

    [Test]
    public void PairSharesOnePromptCutForTheLongerResponse()
    {
        var pair = Template.EncodePair(User("abcdefghij"), "RESP", "RESPONSE", maxLength: 46);

        string prompt = System + "<|im_start|>user\nefghij<|im_end|>\n";
        Assert.That(ByteTokenizer.Instance.Decode(pair.Chosen), Is.EqualTo(prompt + "<|im_start|>assistant\nRESP" + Tail));
        Assert.That(ByteTokenizer.Instance.Decode(pair.Rejected), Is.EqualTo(prompt + "<|im_start|>assistant\nRESPONSE" + Tail));
        Assert.That(pair.PromptTruncated, Is.True);
        Assert.That(pair.ResponseTruncated, Is.False);
    }
}
