using System.IO.Compression;
using System.Text;
using Parquet;
using Parquet.Schema;
using WorldPM.Data;

namespace WorldPM.Tests.Data;

/// <summary>
/// The readers that once held their whole file stream it: a JSON array is read element by element (the same pairs and
/// bad-record lines as the same records as JSON Lines, in memory that does not follow the file's size), Parquet row
/// group by row group (rows numbered across groups), and a streaming read lists a bounded number of bad records while
/// counting them all.
/// </summary>
public class StreamingReaderTests
{
    private static string Record(int i, int responseChars) =>
        $$"""{"prompt": "question {{i}}", "chosen": "{{new string('a', responseChars)}} yes {{i}}", "rejected": "no {{i}}"}""";

    [Test]
    public void AJsonArrayGivesThePairsAndBadLinesOfTheSameRecordsAsJsonLines()
    {
        using var folder = new TempFolder();
        // Elements far larger than the reader's first buffer, a comment, and a bad element (not an object) at a known line.
        var records = Enumerable.Range(0, 12).Select(i => Record(i, i % 4 == 0 ? 300_000 : 10)).ToList();
        records[7] = "[\"not\", \"an object\"]";
        string lines = string.Join("\n", records) + "\n";
        var array = new StringBuilder("[\n  // a comment before the first record\n");
        for (int i = 0; i < records.Count; i++) array.Append("  ").Append(records[i]).Append(i + 1 < records.Count ? ",\n" : "\n");
        array.Append("]\n");
        string jsonl = folder.Write("pairs.jsonl", lines), json = folder.Write("pairs.json", array.ToString());

        LoadResult expected = PreferenceDataset.Load(jsonl), streamed = PreferenceDataset.Load(json);

        Assert.That(streamed.Pairs.Select(p => (p.Prompt[0].Content, p.Chosen, p.Rejected)),
            Is.EqualTo(expected.Pairs.Select(p => (p.Prompt[0].Content, p.Chosen, p.Rejected))));
        Assert.That(expected.BadRecords.Single().Location.Line, Is.EqualTo(8), "JSON Lines: the 8th line");
        Assert.That(streamed.BadRecords.Single().Location.Line, Is.EqualTo(8 + 2), "the array's 8th element is on line 10");
        Assert.That(streamed.BadRecords.Single().Location.Record, Is.EqualTo(8));
        Assert.That(streamed.BadRecords.Single().Reason, Is.EqualTo(expected.BadRecords.Single().Reason));
    }

    [Test]
    public void AJsonArrayCutShortIsABadRecordAfterThePairsBeforeTheCut()
    {
        using var folder = new TempFolder();
        string json = folder.Write("cut.json", "[\n" + Record(0, 5) + ",\n" + Record(1, 5) + ",\n{\"prompt\": \"cut");

        LoadResult result = PreferenceDataset.Load(json, new DataLoadOptions { Format = DataFormat.GenericJson });

        Assert.That(result.Pairs.Select(p => p.Prompt[0].Content), Is.EqualTo(new[] { "question 0", "question 1" }));
        Assert.That(result.BadRecords.Single().Reason, Does.StartWith("invalid JSON, rest of file not read"));
    }

    [Test]
    public void AJsonArrayStreamsInMemoryFarBelowItsSize()
    {
        using var folder = new TempFolder();
        string json = Path.Combine(folder.Path, "big.json");
        const int count = 16_000;
        using (var writer = new StreamWriter(json, false, new UTF8Encoding(false)))
        {
            writer.Write("[\n");
            for (int i = 0; i < count; i++) writer.Write(Record(i, 2_000) + (i + 1 < count ? ",\n" : "\n"));
            writer.Write("]\n");
        }
        long size = new FileInfo(json).Length;
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true), peak = 0;
        int pairs = 0;

        PreferenceDataset.Stream(json, null, (_, _) =>
        {
            if (++pairs % 2_000 == 0) peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - before);
        });

        Assert.That(pairs, Is.EqualTo(count));
        Assert.That(size, Is.GreaterThan(30_000_000));
        Assert.That(peak, Is.LessThan(size / 16), $"live memory while reading a {size}-byte array");
    }

    [Test]
    public async Task ParquetRowGroupsAreReadInOrderWithRowsNumberedAcrossThem()
    {
        using var folder = new TempFolder();
        var fields = new[] { new DataField<string>("prompt"), new DataField<string>("chosen"), new DataField<string>("rejected") };
        string path = Path.Combine(folder.Path, "groups.parquet");
        var expected = new List<(string, string, string)>();
        await using (var file = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), file))
        {
            for (int group = 0; group < 3; group++)
            {
                var rows = Enumerable.Range(0, 4).Select(i => (Prompt: $"q{group}.{i}", Chosen: $"good {group}.{i}", Rejected: group == 1 && i == 2 ? "" : $"bad {group}.{i}")).ToList();
                expected.AddRange(rows.Where(r => r.Rejected != "").Select(r => (r.Prompt, r.Chosen, r.Rejected)));
                using var rowGroup = writer.CreateRowGroup();
                await rowGroup.WriteAsync(fields[0], rows.Select(r => r.Prompt).ToList(), null);
                await rowGroup.WriteAsync(fields[1], rows.Select(r => r.Chosen).ToList(), null);
                await rowGroup.WriteAsync(fields[2], rows.Select(r => r.Rejected).ToList(), null);
            }
        }
        string gzipped = path + ".gz";
        await using (var source = File.OpenRead(path))
        await using (var target = new GZipStream(File.Create(gzipped), CompressionLevel.Fastest))
            await source.CopyToAsync(target);

        foreach (string file in new[] { path, gzipped })
        {
            LoadResult result = PreferenceDataset.Load(file, new DataLoadOptions { Format = DataFormat.Parquet });
            Assert.That(result.Pairs.Select(p => (p.Prompt[0].Content, p.Chosen, p.Rejected)), Is.EqualTo(expected), file);
            Assert.That(result.BadRecords.Single().Location.Record, Is.EqualTo(4 + 3), "the third row of the second group");
        }
    }

    [Test]
    public void AStreamingReadListsTheFirstBadRecordsAndCountsThemAll()
    {
        using var folder = new TempFolder();
        const int bad = PairCollector.KeptIssues + 150;
        string data = folder.Write("bad.jsonl", string.Concat(Enumerable.Range(0, bad).Select(i => $"{{\"prompt\": \"p{i}\"}}\n")) + Record(0, 3) + "\n");
        var generic = new DataLoadOptions { Format = DataFormat.GenericJson };

        LoadResult streamed = PreferenceDataset.Stream(data, generic, (_, _) => { });
        LoadResult loaded = PreferenceDataset.Load(data, generic);

        Assert.That(streamed.BadRecordCount, Is.EqualTo(bad));
        Assert.That(streamed.BadRecords.Select(b => b.Location.Line), Is.EqualTo(Enumerable.Range(1, PairCollector.KeptIssues)));
        Assert.That(streamed.Files.Single().BadRecords, Is.EqualTo(bad));
        Assert.That(streamed.Summary(), Does.Contain($"{bad} bad records"));
        Assert.That(loaded.BadRecords, Has.Count.EqualTo(bad), "a load that keeps its pairs keeps every bad record too");
    }
}
