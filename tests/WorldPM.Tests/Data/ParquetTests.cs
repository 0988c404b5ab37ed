using Parquet.Schema;
using Parquet.Serialization;
using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class ParquetTests
{
    private static async Task<string> WriteTable(TempFolder folder, string name, ParquetSchema schema, params Dictionary<string, object?>[] rows)
    {
        var path = Path.Combine(folder.Path, name);
        await using var file = File.Create(path);
        await ParquetSerializer.SerializeUntypedAsync(rows.Cast<IDictionary<string, object?>>().ToList(), schema, file);
        return path;
    }

    [Test]
    public async Task ARoundTripThroughACustomColumnMappingGivesThePairsBack()
    {
        using var folder = new TempFolder();
        var schema = new ParquetSchema(
            new DataField<string>("question"), new DataField<string>("better"), new DataField<string>("worse"),
            new DataField<string>("group"), new DataField<double>("strength"));
        var path = await WriteTable(folder, "pairs.parquet", schema,
            new() { ["question"] = "2+2?", ["better"] = "4", ["worse"] = "5", ["group"] = "math", ["strength"] = 0.5 },
            new() { ["question"] = "Sky colour?", ["better"] = "Blue", ["worse"] = "Green", ["group"] = "facts", ["strength"] = 2.0 });
        var columns = new ColumnMapping(Prompt: "question", Chosen: "better", Rejected: "worse", Subset: "group", Weight: "strength");

        var result = PreferenceDataset.Load(path, new DataLoadOptions { Columns = columns });

        Assert.That(result.Files.Single().Format, Is.EqualTo(DataFormat.Parquet));
        Assert.That(result.Pairs.Select(pair => (pair.Prompt.Single().Content, pair.Chosen, pair.Rejected, pair.Subset, pair.Weight)), Is.EqualTo(new[]
        {
            ("2+2?", "4", "5", (string?)"math", 0.5),
            ("Sky colour?", "Blue", "Green", (string?)"facts", 2.0),
        }));
        Assert.That(result.Pairs[1].Source, Is.EqualTo($"{path}:record 2"));
    }

    [Test]
    public async Task DefaultColumnNamesNeedNoMappingAndEmptyValuesAreBadRows()
    {
        using var folder = new TempFolder();
        var schema = new ParquetSchema(new DataField<string>("prompt"), new DataField<string>("chosen"), new DataField<string>("rejected"));
        var path = await WriteTable(folder, "table.bin", schema,
            new() { ["prompt"] = "p", ["chosen"] = "a", ["rejected"] = "b" },
            new() { ["prompt"] = "q", ["chosen"] = "", ["rejected"] = "b" });

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Pairs.Single().Chosen, Is.EqualTo("a"));
        Assert.That(result.BadRecords.Single(), Is.EqualTo(new RecordIssue(new RecordLocation(path, Record: 2), "empty chosen response")));
    }

    [Test]
    public async Task AMissingColumnIsReportedWithTheColumnsThereAre()
    {
        using var folder = new TempFolder();
        var schema = new ParquetSchema(new DataField<string>("prompt"), new DataField<string>("answer"));
        var path = await WriteTable(folder, "wrong.parquet", schema, new Dictionary<string, object?> { ["prompt"] = "p", ["answer"] = "a" });

        var bad = PreferenceDataset.Load(path).BadRecords.Single();

        Assert.That(bad.Reason, Does.Contain("\"chosen\"").And.Contain("\"rejected\"").And.Contain("answer"));
    }
}
