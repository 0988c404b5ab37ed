using WorldPM.Data;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Tokenization;

public class PairEncoderTests
{
    private static PreferencePair Pair(string prompt, string chosen, string rejected) =>
        new([new ChatTurn(ChatRole.User, prompt)], chosen, rejected);

    [Test]
    public void EncodesChosenAndRejectedWithTheTemplate()
    {
        var template = new ChatTemplate(ByteTokenizer.Instance);
        var encoded = new PairEncoder(template, maxLength: 1000).Encode(Pair("2+2?", "4", "5"));

        Assert.That(encoded.Chosen, Is.EqualTo(template.Encode(Pair("2+2?", "4", "5").Prompt, "4").Ids));
        Assert.That(encoded.Rejected, Is.EqualTo(template.Encode(Pair("2+2?", "4", "5").Prompt, "5").Ids));
        Assert.That(encoded.Truncated, Is.False);
    }

    [Test]
    public void CountsTruncatedPairsOverADataset()
    {
        // Byte tokenizer: system turn 10 tokens, user turn 8 + prompt length, response 14 + its length.
        // "2+2?" with "4" is 37 tokens and fits in 40; a longer prompt is cut; a 41-character response
        // cannot fit even after the prompt is dropped, so it is cut too.
        var encoder = new PairEncoder(new ChatTemplate(ByteTokenizer.Instance), maxLength: 40);
        PreferencePair[] pairs =
        [
            Pair("2+2?", "4", "5"),
            Pair("2+2?", "a very long answer that cannot fit at all", "5"),
            Pair("a much longer question", "4", "5"),
            Pair("2+2?", "4", "5"),
        ];

        var encoded = pairs.Select(encoder.Encode).ToList();

        Assert.That(encoded.Select(e => e.Truncated), Is.EqualTo(new[] { false, true, true, false }));
        Assert.That(encoder.Statistics, Is.EqualTo(new TruncationStatistics(Pairs: 4, TruncatedPairs: 2, PromptTruncatedPairs: 2, ResponseTruncatedPairs: 1)));
        Assert.That(encoder.Statistics.TruncatedFraction, Is.EqualTo(0.5));
        Assert.That(encoded.SelectMany(e => new[] { e.Chosen, e.Rejected }), Has.All.Matches<int[]>(ids => ids.Length <= 40));
    }
}
