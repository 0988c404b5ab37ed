using System.Text.Json;
using System.Text.Json.Serialization;
using WorldPM.Data;
using WorldPM.Evaluation;
using WorldPM.Tests.Data;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Evaluation;

/// <summary>Style features on texts the test writes with known counts, and the report on pairs with known answers.</summary>
public class StyleReportTests
{
    /// <summary>A response built from known numbers of each markdown element, so the expected counts are the inputs.</summary>
    private static string Compose(int headers, int items, int bold, int italic, int code, int links, int emoji)
    {
        var lines = new List<string>();
        for (int i = 0; i < headers; i++) lines.Add($"{new string('#', 1 + i % 3)} Part {i}");
        for (int i = 0; i < items; i++) lines.Add(i % 2 == 0 ? $"- item {i}" : $"{i}. item");
        for (int i = 0; i < bold; i++) lines.Add($"this is **strong {i}** text");
        for (int i = 0; i < italic; i++) lines.Add($"this is *soft {i}* and snake_case_name stays");
        for (int i = 0; i < code; i++) lines.AddRange(["```python", "# not a header", "- not an item", "```"]);
        for (int i = 0; i < links; i++) lines.Add(i % 2 == 0 ? $"see [doc {i}](https://example.org/{i})" : $"see https://example.org/{i}.");
        lines.Add("end " + string.Concat(Enumerable.Repeat("\U0001F600", emoji)));
        return string.Join('\n', lines);
    }

    [Test]
    public void CountsMatchTheElementsWritten()
    {
        var random = new Random(4);
        for (int trial = 0; trial < 50; trial++)
        {
            int[] n = [.. Enumerable.Range(0, 7).Select(_ => random.Next(0, 4))];
            string text = Compose(n[0], n[1], n[2], n[3], n[4], n[5], n[6]);
            StyleCounts c = StyleCounts.Of(text);
            Assert.That(new[] { c.Headers, c.ListItems, c.Bold, c.Italic, c.CodeBlocks, c.Links, c.Emoji }, Is.EqualTo(n), text);
            Assert.That(c.Characters, Is.EqualTo(text.Length - n[6]), "an emoji is one character, two UTF-16 units");
        }
    }

    [Test]
    public void AnUnclosedFenceCountsAndHidesWhatFollows()
    {
        StyleCounts c = StyleCounts.Of("text\n```\n# inside\n- inside");
        Assert.That((c.CodeBlocks, c.Headers, c.ListItems), Is.EqualTo((1, 0, 0)));
    }

    private static (PreferencePair, TokenizedPair) Pair(string chosen, string rejected, int chosenTokens, int rejectedTokens) =>
        (new PreferencePair([], chosen, rejected), new TokenizedPair([1], [1]) { ChosenResponseTokens = chosenTokens, RejectedResponseTokens = rejectedTokens });

    [Test]
    public void TheReportReadsTheModelAgainstTheLabels()
    {
        // Headers: chosen minus rejected = +2, +1, 0, -1, +3; the model's margins are chosen so that it prefers the
        // side with more headers in every differing pair, while the labels do so in 3 of 4.
        (PreferencePair, TokenizedPair)[] pairs =
        [
            Pair("# a\n# b", "x", 10, 20),
            Pair("# a", "x", 30, 10),
            Pair("x", "y", 10, 10),
            Pair("x", "# a", 10, 5),
            Pair("# a\n# b\n# c", "y", 40, 10),
        ];
        double[] deltas = [0.5, 0.2, -0.1, -0.3, 0.9];
        StyleReport report = StyleReport.Build([.. pairs.Select(p => PairStyle.Of(p.Item1))], [.. pairs.Select(p => p.Item2)], deltas);
        StyleFeatureReport headers = report.Features.Single(f => f.Feature == "headers");

        Assert.That(headers.PairsDiffering, Is.EqualTo(4));
        Assert.That(headers.HumansPreferMore, Is.EqualTo(0.75));
        Assert.That(headers.ModelPrefersMore, Is.EqualTo(1.0));
        Assert.That(headers.ChosenMean, Is.EqualTo(6.0 / 5));
        Assert.That(headers.RejectedMean, Is.EqualTo(1.0 / 5));
        // By hand: differences 2, 1, 0, -1, 3 rank 4, 3, 2, 1, 5; margins 0.5, 0.2, -0.1, -0.3, 0.9 rank 4, 3, 2, 1, 5: rho = 1.
        Assert.That(headers.Spearman, Is.EqualTo(1.0).Within(1e-12));
        Assert.That(headers.Buckets.Select(b => b.Model.Pairs), Is.EqualTo(new[] { 0, 1, 1, 1, 2 }));
        Assert.That(headers.Buckets[4].Model.Margin, Is.EqualTo(0.7).Within(1e-12));
        Assert.That(headers.Buckets[2].Model.Accuracy, Is.EqualTo(0.0));

        // Tokens: relative differences -0.5, +2/3, 0, +0.5, +0.75; margins as above.
        StyleFeatureReport tokens = report.Features.Single(f => f.Feature == "tokens");
        Assert.That(tokens.Buckets.Select(b => b.Model.Pairs), Is.EqualTo(new[] { 1, 0, 1, 0, 3 }));
        Assert.That(tokens.HumansPreferMore, Is.EqualTo(0.75));
        // Differences -10, 20, 0, 5, 30 rank 1, 4, 2, 3, 5 against margin ranks 4, 3, 2, 1, 5:
        // d^2 = 9 + 1 + 0 + 4 + 0 = 14, rho = 1 - 6 * 14 / (5 * 24) = 0.3.
        Assert.That(tokens.Spearman, Is.EqualTo(0.3).Within(1e-12));
    }

    [Test]
    public void TheReportFromAPreparedStoreIsTheReportOfTheTextInMemory()
    {
        // Responses with varied markdown, some long enough to be cut at the max length (the token feature reads the
        // untruncated counts either way).
        using var folder = new TempFolder();
        var random = new Random(7);
        string Response() => Compose(random.Next(0, 3), random.Next(0, 4), random.Next(0, 3), random.Next(0, 3), random.Next(0, 2),
            random.Next(0, 3), random.Next(0, 2)) + new string('.', random.Next(0, 60));
        string data = folder.Write("styled.jsonl", string.Join('\n', Enumerable.Range(0, 30).Select(i =>
            JsonSerializer.Serialize(new { prompt = $"question {i}", chosen = Response(), rejected = Response() }))));
        const int maxLength = 96;
        double[] deltas = [.. Enumerable.Range(0, 30).Select(_ => random.NextDouble() - 0.4)];

        // In memory: the pairs loaded whole, counted from their text and encoded here.
        IReadOnlyList<PreferencePair> pairs = PreferenceDataset.Load(data, new DataLoadOptions()).Pairs;
        var encoded = new PairEncoder(new ChatTemplate(ByteTokenizer.Instance), maxLength).EncodeAll(pairs);
        StyleReport expected = StyleReport.Build([.. pairs.Select(PairStyle.Of)], encoded, deltas);

        string storePath = System.IO.Path.Combine(folder.Path, "styled.store");
        TokenStorePreparation.Run([data], storePath, new DataLoadOptions(), ByteTokenizer.Instance, "byte", ScoringToken.EndOfText, maxLength);
        using TokenStore store = TokenStore.Open(storePath);
        StyleReport stored = StyleReport.Build(store.Styles, store, deltas);

        Assert.That(encoded.Count(p => p.ResponseTruncated), Is.GreaterThan(0), "the data exercises truncation");
        Assert.That(Json(stored), Is.EqualTo(Json(expected)));
    }

    private static string Json(StyleReport report) =>
        JsonSerializer.Serialize(report, new JsonSerializerOptions { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals });

    [Test]
    public void SpearmanAveragesTiedRanks()
    {
        // x ranks 1.5, 1.5, 3, 4; y ranks 1, 2, 3, 4. Pearson of those by hand: mean 2.5 each;
        // sum dx dy = (-1)(-1.5) + (-1)(-0.5) + 0.5 * 0.5 + 1.5 * 1.5 = 4.5; sum dx^2 = 1 + 1 + 0.25 + 2.25 = 4.5; sum dy^2 = 5.
        Assert.That(Spearman.Correlation([1, 1, 2, 3], [10, 20, 30, 40]), Is.EqualTo(4.5 / Math.Sqrt(4.5 * 5)).Within(1e-12));
        Assert.That(Spearman.Correlation([1, 1, 1], [1, 2, 3]), Is.NaN);
    }
}
