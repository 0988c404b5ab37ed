namespace WorldPM.Data;

/// <summary>The names of the <see cref="DataFormat"/>s on command lines and in messages (<c>--format hh-rlhf</c>).</summary>
public static class DataFormatNames
{
    private static readonly (DataFormat Format, string Name)[] Names =
    [
        (DataFormat.Auto, "auto"),
        (DataFormat.GenericJson, "generic-json"),
        (DataFormat.HhRlhf, "hh-rlhf"),
        (DataFormat.StackExchange, "stackexchange"),
        (DataFormat.SummarizeFromFeedback, "summarize-from-feedback"),
        (DataFormat.LlmBar, "llmbar"),
        (DataFormat.HelpSteer, "helpsteer"),
        (DataFormat.Parquet, "parquet"),
        (DataFormat.AnswerRankings, "answer-rankings"),
        (DataFormat.Csv, "csv"),
    ];

    /// <summary>Every name, in the enum's order: "auto, generic-json, ...".</summary>
    public static string All => string.Join(", ", Names.Select(n => n.Name));

    /// <summary>The name of <paramref name="format"/>.</summary>
    public static string Name(DataFormat format)
    {
        foreach (var (f, name) in Names)
            if (f == format) return name;
        throw new ArgumentOutOfRangeException(nameof(format), format, "not a data format");
    }

    /// <summary>The format named <paramref name="name"/> (case-insensitive), or null when none is.</summary>
    public static DataFormat? TryParse(string name)
    {
        foreach (var (format, n) in Names)
            if (string.Equals(n, name.Trim(), StringComparison.OrdinalIgnoreCase)) return format;
        return null;
    }
}
