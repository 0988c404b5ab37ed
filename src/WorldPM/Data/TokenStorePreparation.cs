using WorldPM.Evaluation;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Data;

/// <summary>
/// Raw preference data streamed into a token store: every path read as <see cref="PreferenceDataset.Stream"/> reads it,
/// pairs encoded with the chat template (and their responses' <see cref="StyleCounts"/> taken, for the style report) a
/// block at a time on every core and written in order as they come
/// (<see cref="TokenStoreWriter"/>), so memory stays bounded by the block and the readers, not the data. What
/// <c>worldpm prepare</c> does, and what <c>train</c> and <c>eval</c> do with raw data before reading it as a store.
/// </summary>
public sealed class TokenStorePreparation
{
    /// <summary>Pairs encoded together (in parallel) before they are written in order.</summary>
    public const int Block = 1024;

    private TokenStorePreparation(IReadOnlyList<PreparedPath> paths, TruncationStatistics statistics, long pairsWithoutMargin,
        (int Pair, string? Location)? firstWithoutMargin)
    {
        (Paths, Statistics, PairsWithoutMargin, FirstWithoutMargin) = (paths, statistics, pairsWithoutMargin, firstWithoutMargin);
    }

    /// <summary>What each data path gave, in the order given (a streaming read: no pairs kept, issues bounded).</summary>
    public IReadOnlyList<PreparedPath> Paths { get; }

    /// <summary>How many pairs the template cut to the max length, of all written.</summary>
    public TruncationStatistics Statistics { get; }

    /// <summary>Every bad record of every path.</summary>
    public int BadRecords => Paths.Sum(p => p.Result.BadRecordCount);

    /// <summary>Pairs written without a margin (all of them when no margin field was named).</summary>
    public long PairsWithoutMargin { get; }

    /// <summary>The first pair without a margin: its index in the store and where it was read (file and line); null when
    /// every pair has one.</summary>
    public (int Pair, string? Location)? FirstWithoutMargin { get; }

    /// <summary>
    /// Writes the pairs of <paramref name="paths"/> into a store at <paramref name="store"/> (replaced at once when
    /// complete), encoded for <paramref name="tokenizer"/> up to <paramref name="maxLength"/> tokens ending in
    /// <paramref name="scoringToken"/>, margins from <paramref name="loading"/>'s field. <paramref name="progress"/> hears
    /// after every block and every path: input bytes read (compressed bytes for gzip) of the total, pairs and tokens written.
    /// <paramref name="cancellation"/> is looked at with every pair read: once cancelled the run stops with an
    /// <see cref="OperationCanceledException"/> and writes nothing under <paramref name="store"/>.
    /// </summary>
    /// <exception cref="DataFormatException">A file's format cannot be told, or strict loading met a bad record: nothing
    /// is written under <paramref name="store"/>.</exception>
    public static TokenStorePreparation Run(IReadOnlyList<string> paths, string store, DataLoadOptions loading, ITokenizer tokenizer,
        string tokenizerName, ScoringToken scoringToken, int maxLength, Action<PreparationProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(loading);
        var encoder = new PairEncoder(new ChatTemplate(tokenizer, scoringToken), maxLength);
        var prepared = new List<PreparedPath>();
        long totalBytes = paths.Sum(InputBytes), withoutMargin = 0;
        (int, string?)? firstWithoutMargin = null;
        TokenStoreWriter.Write(store, tokenizer, tokenizerName, scoringToken, maxLength, loading.MarginFrom, writer =>
        {
            var sources = new List<TokenStoreSource>();
            long doneBytes = 0;
            var block = new List<(PreferencePair Pair, int Source)>(Block);
            void Flush()
            {
                var encoded = new TokenizedPair[block.Count];
                var styles = new PairStyle[block.Count];
                Parallel.For(0, block.Count, i =>
                {
                    encoded[i] = encoder.Encode(block[i].Pair);
                    styles[i] = PairStyle.Of(block[i].Pair);
                });
                for (int i = 0; i < encoded.Length; i++) writer.Add(encoded[i], block[i].Source, styles[i]);
                block.Clear();
            }
            void Report(long bytes) => progress?.Invoke(new PreparationProgress(bytes, totalBytes, writer.Pairs, writer.Tokens));
            foreach (string path in paths)
            {
                int first = sources.Count;
                LoadResult result = PreferenceDataset.Stream(path, loading, (pair, at) =>
                {
                    cancellation.ThrowIfCancellationRequested();
                    if (pair.Margin is null && withoutMargin++ == 0) firstWithoutMargin = ((int)writer.Pairs + block.Count, pair.Source);
                    block.Add((pair, first + at.File));
                    if (block.Count < Block) return;
                    Flush();
                    Report(doneBytes + at.BytesRead);
                });
                Flush();
                doneBytes += InputBytes(path);
                Report(doneBytes);
                prepared.Add(new PreparedPath(path, result));
                sources.AddRange(result.Files.Select(f => new TokenStoreSource(f.Path,
                    f.Format == DataFormat.Auto ? "unknown" : DataFormatNames.Name(f.Format), f.Pairs, f.BadRecords, f.SkippedRecords, f.TiedComparisons)));
            }
            // A cancellation after the last pair still leaves nothing under the store: the store is committed after this.
            cancellation.ThrowIfCancellationRequested();
            return sources;
        });
        return new TokenStorePreparation(prepared, encoder.Statistics, withoutMargin, firstWithoutMargin);
    }

    /// <summary>The bytes on disk of a data path (a folder's files all counted), the scale of the progress.</summary>
    public static long InputBytes(string path) =>
        Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length)
            : new FileInfo(path).Length;
}
