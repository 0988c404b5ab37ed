using System.Text.Json;
using System.Xml;

namespace WorldPM.Data;

/// <summary>
/// Tells a file's format from its content: Parquet by its "PAR1" magic (or extension), XML by its
/// root element (<c>posts</c>: a StackExchange dump), JSON by the fields of its first record.
/// Gzip is looked through first.
/// </summary>
internal static class FormatDetector
{
    public static DataFormat Detect(DataSource source)
    {
        var head = source.TextHead();
        if (head.StartsWith("PAR1", StringComparison.Ordinal) || source.Path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            return DataFormat.Parquet;
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
        return Unknown(source, "neither JSON, XML nor Parquet");
    }

    private static DataFormat FromRecord(JsonElement record, DataSource source)
    {
        bool Has(string name) => record.TryGetProperty(name, out _);
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
