using System.Text;
using WorldPM.Data;

namespace WorldPM.Tests.Data;

/// <summary>CSV with a header row: RFC 4180 quoting, the column mapping, the arena convention, bad rows.</summary>
public class CsvTests
{
    [Test]
    public void QuotedFieldsHoldCommasQuotesAndLineBreaksAndRowsAreLocatedByTheirFirstLine()
    {
        using var folder = new TempFolder();
        var path = folder.Write("pairs.csv",
            "prompt,chosen,rejected\r\n" +
            "\"Say \"\"hi\"\", then stop.\",\"hi,\r\nthen stop\",hello\r\n" +
            "\r\n" +
            "plain,\"a\nb\nc\",\"\"\"quoted\"\"\"\r\n" +
            "last,x,\"y\"");

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Files.Single().Format, Is.EqualTo(DataFormat.Csv));
        Assert.That(result.BadRecords, Is.Empty);
        Assert.That(result.Pairs.Select(p => (p.Prompt.Single().Content, p.Chosen, p.Rejected)), Is.EqualTo(new[]
        {
            ("Say \"hi\", then stop.", "hi,\r\nthen stop", "hello"),
            ("plain", "a\nb\nc", "\"quoted\""),
            ("last", "x", "y"),
        }));
        // lines: 1 header, 2-3 the first row, 4 blank, 5-7 the second row, 8 the last
        Assert.That(result.Pairs.Select(p => p.Source), Is.EqualTo(new[] { $"{path}:2", $"{path}:5", $"{path}:8" }));
    }

    /// <summary>Random fields written by a minimal RFC 4180 writer of the test's own read back field for field.</summary>
    [Test]
    public void RandomFieldsRoundTripThroughAnIndependentWriter()
    {
        var random = new Random(14);
        string[] alphabet = ["a", "b", " ", ",", "\"", "\n", "\r", "\t", "é", "€", "😀"];
        string Field() => "x" + string.Concat(Enumerable.Range(0, random.Next(0, 12)).Select(_ => alphabet[random.Next(alphabet.Length)]));
        static string Quote(string field) =>
            field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

        var rows = Enumerable.Range(0, 200).Select(_ => (Prompt: Field(), Chosen: Field(), Rejected: Field())).ToList();
        foreach (string newline in new[] { "\n", "\r\n" })
        {
            var text = new StringBuilder("prompt,chosen,rejected" + newline);
            foreach (var row in rows) text.Append($"{Quote(row.Prompt)},{Quote(row.Chosen)},{Quote(row.Rejected)}{newline}");
            using var folder = new TempFolder();

            var result = PreferenceDataset.Load(folder.Write("random.csv", text.ToString()), new DataLoadOptions { KeepIdenticalPairs = true });

            Assert.That(result.BadRecords, Is.Empty, newline == "\n" ? "LF" : "CRLF");
            Assert.That(result.Pairs.Select(p => (p.Prompt.Single().Content, p.Chosen, p.Rejected)), Is.EqualTo(rows), newline == "\n" ? "LF" : "CRLF");
        }
    }

    [Test]
    public void TheArenaConventionIsToldFromTheHeaderAndItsTiesAreCounted()
    {
        using var folder = new TempFolder();
        var path = folder.Write("votes.csv", """
            id,prompt,completion_a,completion_b,accepted
            1,Capital of France?,Paris,Lyon,0
            2,Capital of Spain?,Barcelona,Madrid,1
            3,Capital of Italy?,Rome,Milan,a
            4,Capital of Peru?,Cusco,Lima,model_b
            5,Capital of Chile?,Santiago,Santiago de Chile,tie
            6,Capital of Japan?,Kyoto,Osaka,tie (bothbad)
            7,Capital of Kenya?,Nairobi,Mombasa,2
            """);

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Pairs.Select(p => (p.Chosen, p.Rejected)), Is.EqualTo(new[]
        {
            ("Paris", "Lyon"), ("Madrid", "Barcelona"), ("Rome", "Milan"), ("Lima", "Cusco"),
        }));
        Assert.That(result.TiedComparisons, Is.EqualTo(2));
        var bad = result.BadRecords.Single();
        Assert.That(bad.Location.Line, Is.EqualTo(8));
        Assert.That(bad.Reason, Does.StartWith("column \"accepted\" holds \"2\""));
    }

    [Test]
    public void TheOtherArenaColumnNamesAndWinnerWork()
    {
        using var folder = new TempFolder();
        var path = folder.Write("arena.csv", "prompt,response_a,response_b,winner\nq,left,right,model_a\n");

        Assert.That(PreferenceDataset.Load(path).Pairs.Select(p => (p.Chosen, p.Rejected)), Is.EqualTo(new[] { ("left", "right") }));
    }

    [Test]
    public void TheColumnMappingNamesOtherColumnsAndSubsetAndWeightAreRead()
    {
        using var folder = new TempFolder();
        var path = folder.Write("mapped.txt", """
            question,better,worse,subset,weight
            q1,a,b,math,0.5
            q2,c,d,,
            """);
        var options = new DataLoadOptions { Columns = new ColumnMapping(Prompt: "question", Chosen: "better", Rejected: "worse") };

        var result = PreferenceDataset.Load(path, options);

        Assert.That(PreferenceDataset.DetectFormat(path, options), Is.EqualTo(DataFormat.Csv), "detected from the header, not the name");
        Assert.That(result.Pairs.Select(p => (p.Prompt.Single().Content, p.Chosen, p.Rejected, p.Subset, p.Weight)), Is.EqualTo(new[]
        {
            ("q1", "a", "b", (string?)"math", 0.5),
            ("q2", "c", "d", null, 1.0),
        }));
    }

    [Test]
    public void BadRowsAreBadRecordsAtTheLineTheyStartOnAndReadingGoesOn()
    {
        using var folder = new TempFolder();
        var path = folder.Write("bad.csv",
            "prompt,chosen,rejected,weight\n" +
            "p,a,b\n" +                     // 2: three fields
            "p,a\"x\"y,b,1\n" +             // 3: quotes in an unquoted field
            "p,\"a\"x,b,1\n" +              // 4: text after the closing quote
            "p,a,b,heavy\n" +               // 5: weight not a number
            "p,\"multi\nline\",b,2\n" +     // 6-7: fine
            "p,\"never closed,b,1\n" +      // 8: the quote is open to the end of the file
            "p,a,b,1\n");

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Pairs.Select(p => (p.Chosen, p.Weight)), Is.EqualTo(new[] { ("multi\nline", 2.0) }));
        Assert.That(result.BadRecords.Select(b => (b.Location.Line, b.Reason)), Is.EqualTo(new (int?, string)[]
        {
            (2, "row has 3 fields and the header 4"),
            (3, "field 2: a quote inside an unquoted field (quote the whole field and write its quotes twice)"),
            (4, "field 2: text after its closing quote (a quote inside a quoted field is written twice)"),
            (5, "column \"weight\" holds \"heavy\", not a number"),
            (8, "a quoted field opened in this row is never closed (the rest of the file is inside it)"),
        }));
    }

    [Test]
    public void AHeaderWithoutThePairColumnsIsOneBadRecordNamingTheColumns()
    {
        using var folder = new TempFolder();
        var path = folder.Write("other.csv", "prompt,a,b\np,x,y\n");

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Pairs, Is.Empty);
        var bad = result.BadRecords.Single();
        Assert.That(bad.Location.Line, Is.EqualTo(1));
        Assert.That(bad.Reason, Does.StartWith("no column \"chosen\", \"rejected\" (columns: prompt, a, b)")
            .And.Contain("--chosen-column").And.Contain("completion_a"));
    }

    [Test]
    public void BytesThatAreNotUtf8MakeTheirRowBadUnlessLenient()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "latin1.csv");
        File.WriteAllBytes(path, [.. "prompt,chosen,rejected\np,caf"u8, 0xE9, .. ",b\np,a,b\n"u8]);

        var strictUtf8 = PreferenceDataset.Load(path);
        var lenient = PreferenceDataset.Load(path, new DataLoadOptions { LenientUtf8 = true });

        Assert.That(strictUtf8.Pairs, Has.Count.EqualTo(1));
        Assert.That(strictUtf8.BadRecords.Single().Location.Line, Is.EqualTo(2));
        Assert.That(strictUtf8.BadRecords.Single().Reason, Does.StartWith("invalid UTF-8 (byte 0xE9"));
        Assert.That(lenient.Pairs[0].Chosen, Is.EqualTo("caf\uFFFD"));
    }

    [Test]
    public void AFolderReadsItsCsvFilesGzippedOrNot()
    {
        using var folder = new TempFolder();
        folder.Write("a/plain.csv", "prompt,chosen,rejected\np,a,b\n");
        folder.WriteGzip("b/packed.csv.gz", "prompt,chosen,rejected\nq,c,d\nr,e,f\n");

        var result = PreferenceDataset.Load(folder.Path);

        Assert.That(result.Files.Select(f => (Path.GetFileName(f.Path), f.Format, f.Pairs)), Is.EqualTo(new[]
        {
            ("plain.csv", DataFormat.Csv, 1), ("packed.csv.gz", DataFormat.Csv, 2),
        }));
        Assert.That(result.IgnoredFiles, Is.Empty);
    }
}
