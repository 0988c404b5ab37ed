using System.Text;
using WorldPM.Data;

namespace WorldPM.Tests.Data;

/// <summary>
/// Input damaged on its way to the loader (a cut download, bytes that are not UTF-8, a hostile or fake file) is an
/// error or a bad record naming the file, never a quietly shorter or altered dataset.
/// </summary>
public class DamagedInputTests
{
    private static string Lines(int count) => string.Concat(Enumerable.Range(0, count)
        .Select(i => $"{{\"prompt\": \"question {i}\", \"chosen\": \"good answer {i}\", \"rejected\": \"bad answer {i}\"}}\n"));

    [Test]
    public void AWholeGzipFileLoadsLikeThePlainOne()
    {
        using var folder = new TempFolder();
        var plain = PreferenceDataset.Load(folder.Write("pairs.jsonl", Lines(300)));
        var zipped = PreferenceDataset.Load(folder.WriteGzip("pairs.jsonl.gz", Lines(300)));

        Assert.That(zipped.Pairs.Select(p => p.Chosen), Is.EqualTo(plain.Pairs.Select(p => p.Chosen)));
        Assert.That(zipped.Pairs, Has.Count.EqualTo(300));
    }

    [TestCase(0.5)]
    [TestCase(0.99)]
    public void AGzipFileCutShortIsAnErrorNamingIt(double keep)
    {
        using var folder = new TempFolder();
        var path = folder.WriteGzip("pairs.jsonl.gz", Lines(300));
        byte[] whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(int)(whole.Length * keep)]);

        var e = Assert.Throws<InvalidDataException>(() => PreferenceDataset.Load(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("truncated"));
    }

    [Test]
    public void AGzipHeaderAloneIsTruncatedNotAnUnknownFormat()
    {
        using var folder = new TempFolder();
        var path = System.IO.Path.Combine(folder.Path, "five.jsonl.gz");
        File.WriteAllBytes(path, [0x1f, 0x8b, 0x08, 0x00, 0x00]);

        var e = Assert.Throws<InvalidDataException>(() => PreferenceDataset.Load(path));
        Assert.That(e!.Message, Does.Contain("five.jsonl.gz").And.Contain("truncated"));
    }

    [Test]
    public void ALineWithBytesThatAreNotUtf8IsABadRecordAtItsLine()
    {
        using var folder = new TempFolder();
        var path = WriteWithBadByte(folder, "pairs.jsonl", Lines(3), line: 2);

        var strict = PreferenceDataset.Load(path);
        Assert.That(strict.Pairs.Select(p => p.Prompt[0].Content), Is.EqualTo(new[] { "question 0", "question 2" }));
        Assert.That(strict.BadRecords.Select(b => b.Location.Line), Is.EqualTo(new[] { 2 }));
        Assert.That(strict.BadRecords[0].Reason, Does.Contain("invalid UTF-8").And.Contain("0xFF").And.Contain("--lenient-utf8"));

        var lenient = PreferenceDataset.Load(path, new DataLoadOptions { LenientUtf8 = true });
        Assert.That(lenient.BadRecords, Is.Empty);
        Assert.That(lenient.Pairs[1].Chosen, Is.EqualTo("good answer\uFFFD 1"));
    }

    [Test]
    public void ARecordOfAJsonArrayWithBytesThatAreNotUtf8IsABadRecord()
    {
        using var folder = new TempFolder();
        string array = "[\n" + string.Join(",\n", Lines(3).Split('\n', StringSplitOptions.RemoveEmptyEntries)) + "\n]\n";
        var path = WriteWithBadByte(folder, "pairs.json", array, line: 3);

        var strict = PreferenceDataset.Load(path);
        Assert.That(strict.Pairs, Has.Count.EqualTo(2));
        Assert.That(strict.BadRecords.Select(b => (b.Location.Line, b.Location.Record)), Is.EqualTo(new[] { ((int?)3, (int?)2) }));
        Assert.That(strict.BadRecords[0].Reason, Does.Contain("invalid UTF-8"));

        Assert.That(PreferenceDataset.Load(path, new DataLoadOptions { LenientUtf8 = true }).Pairs, Has.Count.EqualTo(3));
    }

    [Test]
    public void PostsXmlWithBytesThatAreNotUtf8StopsAtTheirLine()
    {
        using var folder = new TempFolder();
        const string posts = """
            <?xml version="1.0" encoding="utf-8"?>
            <posts>
              <row Id="1" PostTypeId="1" Title="Which?" Body="&lt;p&gt;Pick one.&lt;/p&gt;" AcceptedAnswerId="2" />
              <row Id="2" PostTypeId="2" ParentId="1" Score="5" Body="&lt;p&gt;This one.&lt;/p&gt;" />
              <row Id="3" PostTypeId="2" ParentId="1" Score="1" Body="&lt;p&gt;That one.&lt;/p&gt;" />
            </posts>
            """;
        var path = WriteWithBadByte(folder, "site/Posts.xml", posts, line: 5, after: "That");

        var strict = PreferenceDataset.Load(path);
        Assert.That(strict.BadRecords.Select(b => b.Location.Line), Is.EqualTo(new[] { 5 }));
        Assert.That(strict.BadRecords[0].Reason, Does.Contain("encoding").And.Contain("--lenient-utf8"));

        var lenient = PreferenceDataset.Load(path, new DataLoadOptions { LenientUtf8 = true });
        Assert.That(lenient.BadRecords, Is.Empty);
        Assert.That(lenient.Pairs, Has.Count.EqualTo(1));
    }

    [TestCase("""<!DOCTYPE posts [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>""")]
    [TestCase("""<!DOCTYPE posts [<!ENTITY secret SYSTEM "file:///etc/passwd">]>""")]
    public void XmlDeclaringADocumentTypeIsRefusedSayingWhy(string doctype)
    {
        using var folder = new TempFolder();
        var path = folder.Write("site/Posts.xml",
            $"<?xml version=\"1.0\"?>\n{doctype}\n<posts><row Id=\"1\" PostTypeId=\"1\" Title=\"t\" Body=\"b\" /></posts>\n");

        var detected = Assert.Throws<DataFormatException>(() => PreferenceDataset.Load(path));
        Assert.That(detected!.Message, Does.Contain(path).And.Contain("DOCTYPE").And.Not.Contain("root element"));

        var forced = PreferenceDataset.Load(path, new DataLoadOptions { Format = DataFormat.StackExchange });
        Assert.That(forced.Pairs, Is.Empty);
        Assert.That(forced.BadRecords.Single().Reason, Does.Contain("DOCTYPE"));
    }

    [TestCase(new byte[] { 0x50, 0x41, 0x52, 0x31 }, "shorter than the smallest Parquet file")]
    [TestCase(new byte[] { 0x50, 0x41, 0x52, 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x50, 0x41, 0x52, 0x30 }, "begins and ends with the bytes PAR1")]
    [TestCase(new byte[] { 0x50, 0x41, 0x52, 0x31, 1, 2, 3, 4, 0xff, 0, 0, 0, 0x50, 0x41, 0x52, 0x31 }, "footer length (255 bytes) exceeds the file")]
    // Footers in Thrift's compact encoding (field header: id delta << 4 | type; 5 = i32, 9 = list, 0 = stop),
    // damaged so that a reader trusting them would run past their end (Parquet.Net's then never returns).
    [TestCase(new byte[] { 0x50, 0x41, 0x52, 0x31, 0x15, 0x80, 2, 0, 0, 0, 0x50, 0x41, 0x52, 0x31 }, "a varint runs past the end")]
    [TestCase(new byte[] { 0x50, 0x41, 0x52, 0x31, 0x15, 0x02, 2, 0, 0, 0, 0x50, 0x41, 0x52, 0x31 }, "a struct does not end")]
    [TestCase(new byte[] { 0x50, 0x41, 0x52, 0x31, 0x19, 0xF5, 0xE8, 0x07, 0, 5, 0, 0, 0, 0x50, 0x41, 0x52, 0x31 }, "a collection of 1000 elements cannot fit")]
    public void AFakeParquetFileNamesWhatIsWrongWithIt(byte[] content, string reason)
    {
        using var folder = new TempFolder();
        var path = System.IO.Path.Combine(folder.Path, "fake.parquet");
        File.WriteAllBytes(path, content);

        var e = Assert.Throws<DataFormatException>(() => PreferenceDataset.Load(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain(reason));
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 with a 0xFF byte after the first <paramref name="after"/> of the given (1-based) line.</summary>
    private static string WriteWithBadByte(TempFolder folder, string name, string text, int line, string after = "answer")
    {
        var path = folder.Write(name, text);
        var bytes = new List<byte>(File.ReadAllBytes(path));
        int start = 0;
        for (int n = 1; n < line; n++) start = bytes.IndexOf((byte)'\n', start) + 1;
        int at = IndexOf(bytes, Encoding.ASCII.GetBytes(after), start) + after.Length;
        bytes.Insert(at, 0xFF);
        File.WriteAllBytes(path, [.. bytes]);
        return path;
    }

    private static int IndexOf(List<byte> bytes, byte[] word, int from)
    {
        for (int i = from; i + word.Length <= bytes.Count; i++)
            if (bytes.Skip(i).Take(word.Length).SequenceEqual(word)) return i;
        throw new ArgumentException("word not found");
    }
}
