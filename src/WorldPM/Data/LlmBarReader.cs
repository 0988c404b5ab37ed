namespace WorldPM.Data;

/// <summary>
/// LLMBar <c>dataset.json</c>: a JSON array of <c>{"input","output_1","output_2","label"}</c>, label 1
/// or 2 naming the better output. The subset is the file's folder path below the nearest folder
/// named "LLMBar" (e.g. "Natural", "Adversarial/Neighbor"); without one, the path below the
/// directory being loaded, or the folder's own name.
/// </summary>
internal sealed class LlmBarReader : IPairReader
{
    public void Read(DataSource source, PairCollector collector)
    {
        var subset = Subset(source);
        JsonRecords.ForEach(source, collector, (record, at) =>
        {
            var input = record.RequiredString("input");
            var first = record.RequiredString("output_1");
            var second = record.RequiredString("output_2");
            var (chosen, rejected) = record.RequiredInt("label") switch
            {
                1 => (first, second),
                2 => (second, first),
                var label => throw new BadRecordException($"label {label} is neither 1 nor 2"),
            };
            collector.Add(at, [new ChatTurn(ChatRole.User, input)], chosen, rejected, subset: subset);
        });
    }

    private static string Subset(DataSource source)
    {
        var folder = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(source.Path))!);
        for (var ancestor = folder.Parent; ancestor is not null; ancestor = ancestor.Parent)
        {
            if (ancestor.Name.Equals("LLMBar", StringComparison.OrdinalIgnoreCase))
            {
                return Below(ancestor.FullName, folder.FullName);
            }
        }
        return source.Root is { } root && Below(Path.GetFullPath(root), folder.FullName) is var below && below != "."
            ? below
            : folder.Name;
    }

    private static string Below(string ancestor, string folder) =>
        Path.GetRelativePath(ancestor, folder).Replace(Path.DirectorySeparatorChar, '/');
}
