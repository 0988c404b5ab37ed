namespace WorldPM.Data;

/// <summary>
/// The one entry point for preference data: loads a file, or every data file under a directory,
/// detecting each file's format (or using <see cref="DataLoadOptions.Format"/>), gunzipping
/// transparently, and accounting for every record that did not become a pair.
/// </summary>
public static class PreferenceDataset
{
    /// <summary>The files a directory load reads (each also gzipped, with ".gz" after it); it leaves out the others and
    /// lists them in <see cref="LoadResult.IgnoredFiles"/>.</summary>
    public static IReadOnlyList<string> DataFileExtensions { get; } = [".jsonl", ".json", ".xml", ".parquet", ".csv"];

    /// <summary>
    /// Loads <paramref name="path"/>. Bad records are reported in the result, or, with
    /// <see cref="DataLoadOptions.Strict"/>, the first one throws a <see cref="DataFormatException"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="DataFormatException">A file's format cannot be told, or strict mode met a bad record.</exception>
    public static LoadResult Load(string path, DataLoadOptions? options = null) => Read(path, new PairCollector(options ?? new DataLoadOptions()));

    /// <summary>
    /// Reads <paramref name="path"/> as <see cref="Load"/> does but hands each pair to <paramref name="onPair"/> as it is
    /// read instead of keeping it: the result's <see cref="LoadResult.Pairs"/> is empty and its files count the pairs;
    /// only the first <see cref="PairCollector.KeptIssues"/> bad and skipped records are listed (all are counted).
    /// </summary>
    public static LoadResult Stream(string path, DataLoadOptions? options, Action<PreferencePair, StreamPosition> onPair)
    {
        ArgumentNullException.ThrowIfNull(onPair);
        PairCollector? collector = null;
        collector = new PairCollector(options ?? new DataLoadOptions(), pair => onPair(pair, collector!.Position));
        return Read(path, collector);
    }

    private static LoadResult Read(string path, PairCollector collector)
    {
        var files = new List<LoadedFile>();
        var ignored = new List<string>();
        if (Directory.Exists(path))
        {
            foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (IsDataFile(file))
                {
                    files.Add(LoadFile(new DataSource(file, path), files.Count, collector));
                }
                else
                {
                    ignored.Add(file);
                }
            }
        }
        else if (File.Exists(path))
        {
            files.Add(LoadFile(new DataSource(path), files.Count, collector));
        }
        else
        {
            throw new FileNotFoundException($"Preference data not found: no file or directory '{path}'.", path);
        }
        return new LoadResult(collector.Pairs, collector.BadRecords, collector.SkippedRecords, collector.TiedComparisons, files, ignored)
        {
            BadRecordCount = collector.BadRecordCount,
            SkippedRecordCount = collector.SkippedRecordCount,
        };
    }

    /// <summary>The format <see cref="Load"/> would read the file at <paramref name="path"/> as (a CSV header is matched
    /// against the column mapping of <paramref name="options"/>).</summary>
    public static DataFormat DetectFormat(string path, DataLoadOptions? options = null) =>
        FormatDetector.Detect(new DataSource(path), (options ?? new DataLoadOptions()).Columns);

    private static LoadedFile LoadFile(DataSource source, int index, PairCollector collector)
    {
        collector.StartFile(source, index);
        var (pairs, bad, skipped, tied) = (collector.PairCount, collector.BadRecordCount, collector.SkippedRecordCount, collector.TiedComparisons);
        var format = collector.Options.Format == DataFormat.Auto ? Detect(source, collector) : collector.Options.Format;
        if (format != DataFormat.Auto)
        {
            Reader(format).Read(source, collector);
        }
        return new LoadedFile(source.Path, format, collector.PairCount - pairs, collector.BadRecordCount - bad,
            collector.SkippedRecordCount - skipped, collector.TiedComparisons - tied);
    }

    /// <summary>
    /// The file's format. A single file whose format cannot be told throws; in a directory load it is
    /// reported as a bad record (and <see cref="DataFormat.Auto"/> returned) so the other files still load.
    /// </summary>
    private static DataFormat Detect(DataSource source, PairCollector collector)
    {
        try
        {
            return FormatDetector.Detect(source, collector.Options.Columns);
        }
        catch (DataFormatException e) when (source.Root is not null)
        {
            collector.Bad(e.Location, e.Reason);
            return DataFormat.Auto;
        }
    }

    private static IPairReader Reader(DataFormat format) => format switch
    {
        DataFormat.GenericJson => new GenericJsonReader(),
        DataFormat.HhRlhf => new HhRlhfReader(),
        DataFormat.StackExchange => new StackExchangeReader(),
        DataFormat.SummarizeFromFeedback => new SummarizeFeedbackReader(),
        DataFormat.LlmBar => new LlmBarReader(),
        DataFormat.HelpSteer => new HelpSteerReader(),
        DataFormat.Parquet => new ParquetPairReader(),
        DataFormat.AnswerRankings => new AnswerRankingReader(),
        DataFormat.Csv => new CsvPairReader(),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a concrete data format"),
    };

    private static bool IsDataFile(string path) =>
        DataFileExtensions.Any(extension => FormatDetector.Unzipped(path).EndsWith(extension, StringComparison.OrdinalIgnoreCase));
}
