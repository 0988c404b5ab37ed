using System.Globalization;

namespace WorldPM.Data;

/// <summary>
/// A CSV file of pairs with a header row (<see cref="CsvRows"/>: RFC 4180, multi-line quoted fields), read row by
/// row. Two layouts, told apart by the header:
/// <list type="bullet">
/// <item>pairs: the prompt, chosen and rejected columns of <see cref="DataLoadOptions.Columns"/> (by default
/// <c>prompt</c>, <c>chosen</c>, <c>rejected</c>);</item>
/// <item>the arena convention, used when the chosen and rejected columns are absent: the prompt column, two
/// completions (<c>completion_a</c> and <c>completion_b</c>, or <c>response_a</c> and <c>response_b</c>) and the
/// accepted one (<c>accepted</c> or <c>winner</c>): <c>0</c>, <c>a</c> or <c>model_a</c> for the first, <c>1</c>,
/// <c>b</c> or <c>model_b</c> for the second; a value starting with <c>tie</c> (<c>tie</c>, <c>tie (bothbad)</c>) makes
/// no pair and counts as a tied comparison.</item>
/// </list>
/// In both, the subset and weight columns of the mapping are read when the header has them (an empty cell: no subset,
/// weight 1). A bad row is a bad record at the line the row starts on; a header without the columns of either layout
/// is one bad record for the file, naming the columns it has.
/// </summary>
internal sealed class CsvPairReader : IPairReader
{
    private static readonly string[] FirstCompletionColumns = ["completion_a", "response_a"];
    private static readonly string[] SecondCompletionColumns = ["completion_b", "response_b"];
    private static readonly string[] AcceptedColumns = ["accepted", "winner"];

    public void Read(DataSource source, PairCollector collector)
    {
        using var stream = source.OpenRead();
        Layout? layout = null;
        foreach (var row in new CsvRows(stream, collector.Options.LenientUtf8).Read())
        {
            var at = source.At(row.Line);
            if (layout is null)
            {
                if (row.Fields is null)
                {
                    collector.Bad(at, $"header row: {row.Problem}; rest of file not read");
                    return;
                }
                layout = Layout.Of(row.Fields, collector.Options.Columns);
                if (layout is null)
                {
                    collector.Bad(at, MissingColumns(row.Fields, collector.Options.Columns));
                    return;
                }
                continue;
            }
            try
            {
                layout.Read(row, at, collector);
            }
            catch (BadRecordException e)
            {
                collector.Bad(at, e.Message);
            }
        }
    }

    /// <summary>Whether <paramref name="header"/> has the columns of either layout (for format detection).</summary>
    public static bool IsPairHeader(IReadOnlyList<string> header, ColumnMapping columns) => Layout.Of(header, columns) is not null;

    private static string MissingColumns(IReadOnlyList<string> header, ColumnMapping columns)
    {
        var names = header.Select(name => name.Trim()).ToHashSet();
        var missing = new[] { columns.Prompt, columns.Chosen, columns.Rejected }.Where(name => !names.Contains(name));
        return $"no column {string.Join(", ", missing.Select(name => $"\"{name}\""))} (columns: {string.Join(", ", header)}); a CSV " +
            "file needs prompt, chosen and rejected columns (--prompt-column, --chosen-column and --rejected-column name others), " +
            $"or the arena columns: the prompt, {string.Join(" or ", FirstCompletionColumns)}, {string.Join(" or ", SecondCompletionColumns)}, " +
            $"{string.Join(" or ", AcceptedColumns)}";
    }

    /// <summary>
    /// Where a file's columns are (-1: absent): the prompt, then chosen and rejected, or else the arena's two completions
    /// and accepted column; subset and weight when present.
    /// </summary>
    private sealed record Layout(int Columns, int Prompt, int Chosen, int Rejected, int First, int Second, int Accepted,
        string AcceptedName, int Subset, int Weight, string? WeightName)
    {
        public static Layout? Of(IReadOnlyList<string> header, ColumnMapping columns)
        {
            var index = new Dictionary<string, int>();
            for (int i = header.Count - 1; i >= 0; i--) index[header[i].Trim()] = i;  // the first of repeated names wins
            int Find(params string?[] names) =>
                names.FirstOrDefault(name => name is not null && index.ContainsKey(name)) is { } found ? index[found] : -1;

            int prompt = Find(columns.Prompt), chosen = Find(columns.Chosen), rejected = Find(columns.Rejected);
            int first = Find(FirstCompletionColumns), second = Find(SecondCompletionColumns), accepted = Find(AcceptedColumns);
            if (prompt < 0) return null;
            if (chosen >= 0 && rejected >= 0) (first, second, accepted) = (-1, -1, -1);
            else if (first >= 0 && second >= 0 && accepted >= 0) (chosen, rejected) = (-1, -1);
            else return null;
            return new Layout(header.Count, prompt, chosen, rejected, first, second, accepted,
                accepted >= 0 ? header[accepted].Trim() : "", Find(columns.Subset), Find(columns.Weight), columns.Weight);
        }

        public void Read(CsvRows.Row row, RecordLocation at, PairCollector collector)
        {
            var fields = row.Fields ?? throw new BadRecordException(row.Problem!);
            if (fields.Count != Columns)
            {
                throw new BadRecordException($"row has {fields.Count} fields and the header {Columns}");
            }
            IReadOnlyList<ChatTurn> prompt = [new ChatTurn(ChatRole.User, fields[Prompt])];
            string? subset = Subset >= 0 && fields[Subset].Length > 0 ? fields[Subset] : null;
            double weight = Weight >= 0 ? WeightOf(fields[Weight]) : 1.0;
            if (Chosen >= 0)
            {
                collector.Add(at, prompt, fields[Chosen], fields[Rejected], weight, subset);
                return;
            }
            switch (Winner(fields[Accepted]))
            {
                case 0:
                    collector.Add(at, prompt, fields[First], fields[Second], weight, subset);
                    break;
                case 1:
                    collector.Add(at, prompt, fields[Second], fields[First], weight, subset);
                    break;
                default:
                    collector.Tie();
                    break;
            }
        }

        /// <summary>0 when the first completion was accepted, 1 the second, null for a tie.</summary>
        private int? Winner(string value) => value.Trim().ToLowerInvariant() switch
        {
            "0" or "a" or "model_a" => 0,
            "1" or "b" or "model_b" => 1,
            var tie when tie.StartsWith("tie", StringComparison.Ordinal) => null,
            _ => throw new BadRecordException($"column \"{AcceptedName}\" holds \"{value}\": it should be 0, a or model_a (the first " +
                "completion accepted), 1, b or model_b (the second), or tie"),
        };

        private double WeightOf(string value) =>
            value.Trim().Length == 0 ? 1.0
            : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double weight) ? weight
            : throw new BadRecordException($"column \"{WeightName}\" holds \"{value}\", not a number");
    }
}
