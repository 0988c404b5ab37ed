using System.Text;
using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class ByteLinesTests
{
    [TestCase("a\nbb\n\nccc", TestName = "LastLineWithoutNewline")]
    [TestCase("a\r\nb\r\n", TestName = "CrLfKeepsTheCr")]
    [TestCase("", TestName = "Empty")]
    [TestCase("\n\n", TestName = "OnlyNewlines")]
    public void LinesAreTheTextSplitAtNewlines(string text) => AssertLines(text);

    [Test]
    public void LinesLongerThanTheReadBlockArriveWhole()
    {
        var random = new Random(11);
        string text = string.Join("\n", Enumerable.Range(0, 9).Select(i => new string((char)('a' + i), random.Next(1, 300_000))));
        AssertLines(text);
        AssertLines(text + "\n");
    }

    [Test]
    public void AStreamThatReturnsShortReadsGivesTheSameLines()
    {
        string text = string.Join("\n", Enumerable.Range(0, 5000).Select(i => $"{{\"n\": {i}}}"));
        AssertLines(text, bytes => new OneByteAtATime(bytes));
    }

    private static void AssertLines(string text, Func<byte[], Stream>? open = null)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        var lines = new ByteLines(open?.Invoke(bytes) ?? new MemoryStream(bytes));
        var read = new List<string>();
        while (lines.Next(out ReadOnlyMemory<byte> line)) read.Add(Encoding.UTF8.GetString(line.Span));

        // The reference: split at '\n'; a final empty piece after a trailing '\n' (or of empty text) is no line.
        List<string> expected = [.. text.Split('\n')];
        if (expected[^1].Length == 0) expected.RemoveAt(expected.Count - 1);
        Assert.That(read, Is.EqualTo(expected));
    }

    /// <summary>A stream that hands out one byte per read, as a slow pipe may.</summary>
    private sealed class OneByteAtATime(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
    }
}
