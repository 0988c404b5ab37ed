using System.Text.Json;
using System.Xml;

namespace WorldPM.Data;

/// <summary>
/// Tells a file's format from its content: Parquet by its "PAR1" magic (or extension), XML by its
/// root element (<c>posts</c>: a StackExchange dump), JSON by the fields of its first record, CSV by a header row
/// naming the columns of <see cref="CsvPairReader"/> (or a <c>.csv</c> extension).
/// Gzip is looked through first.
/// </summary>
internal static class FormatDetector
{
    public static DataFormat Detect(DataSource source, ColumnMapping columns)
    {
        var head = source.TextHead();
        if (head.StartsWith("PAR1", StringComparison.Ordinal) || source.Path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            return DataFormat.Parquet;
        }
        if (Unzipped(source.Path).EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || IsCsvHeader(head, columns))
        {
            return DataFormat.Csv;
        }
        if (head.StartsWith('<'))
        {
            var (root, problem) = RootElement(source);
            return root == "posts" ? DataFormat.StackExchange : Unknown(source, problem ?? $"XML root element <{root}>");
        }
        if (head.StartsWith('{') || head.StartsWith('['))
        {
            return JsonRecords.First(source) is { } record ? FromRecord(record, source) : Unknown(source, "no JSON object record");
        }
        return Unknown(source, "neither JSON, XML, CSV with a header naming its columns, nor Parquet");
    }

    /// <summary>The path without a trailing ".gz".</summary>
    public static string Unzipped(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;

    /// <summary>Whether the first line of <paramref name="head"/> is a CSV header with the columns of a pair layout.</summary>
    private static bool IsCsvHeader(string head, ColumnMapping columns)
    {
        int end = head.IndexOf('\n');
        if (end < 0 || head.StartsWith('{') || head.StartsWith('[') || head.StartsWith('<')) return false;
        using var line = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(head[..end]));
        return new CsvRows(line, lenientUtf8: true).Read().FirstOrDefault() is { Fields: { } header } && CsvPairReader.IsPairHeader(header, columns);
    }

    private static DataFormat FromRecord(JsonElement record, DataSource source)
    {
        bool Has(string name) => record.TryGetProperty(name, out _);
        if (AnswerRankingReader.Matches(record))
        {
            return DataFormat.AnswerRankings;
        }
        if (Has("input") && Has("output_1") && Has("output_2"))
        {
            return DataFormat.LlmBar;
        }
        if (Has("info") && Has("summaries"))
        {
            return DataFormat.SummarizeFromFeedback;
        }
        if (Has("chosen") && Has("rejected"))
        {
            return Has("prompt") || record.GetProperty("chosen").ValueKind != JsonValueKind.String ? DataFormat.GenericJson : DataFormat.HhRlhf;
        }
        if (Has("prompt") && Has("response"))
        {
            return DataFormat.HelpSteer;
        }
        return Unknown(source, $"first record has fields {string.Join(", ", record.EnumerateObject().Select(p => p.Name))}");
    }

    /// <summary>The root element's name, or why the XML could not be read up to it.</summary>
    private static (string? Root, string? Problem) RootElement(DataSource source)
    {
        try
        {
            using var xml = SafeXml.Open(source, lenientUtf8: true);
            return xml.MoveToContent() == XmlNodeType.Element ? (xml.Name, null) : (null, "XML without a root element");
        }
        catch (XmlException e) when (SafeXml.IsDtdRefusal(e))
        {
            throw new DataFormatException(source.At(), SafeXml.Reason(e));  // no --format would make it readable
        }
        catch (XmlException e)
        {
            return (null, SafeXml.Reason(e));
        }
    }

    private static DataFormat Unknown(DataSource source, string why) =>
        throw new DataFormatException(source.At(), $"cannot tell the preference-data format ({why}); name it explicitly " +
            $"(--format on the command line, one of {DataFormatNames.All})");
}
