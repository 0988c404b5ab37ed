using System.Text.Json;

namespace WorldPM.Data;

/// <summary>
/// OpenAI summarize-from-feedback comparisons, one per line: <c>info</c> (the Reddit post in <c>info.post</c>, or a
/// CNN/DailyMail news story in <c>info.article</c>),
/// <c>summaries</c> (two), <c>choice</c> (the index the labeller picked) and
/// <c>extra.confidence</c> (1-9, 5 unused; above 5 favours summary 1). The prompt is the post in the
/// paper's layout (subreddit, title, post, "TL;DR:"); the subset says whether a human-written
/// summary (<c>policy</c> "ref") is in the pair: "human-vs-model" or "model-vs-model". A confidence
/// that contradicts the choice makes the record bad. With <see cref="DataLoadOptions.MarginFrom"/>
/// <see cref="DataLoadOptions.ConfidenceMarginField"/>, a pair's margin is |confidence - 5| / 4 (a record without a
/// confidence has none).
/// </summary>
internal sealed class SummarizeFeedbackReader : IPairReader
{
    private const string HumanPolicy = "ref";

    public void Read(DataSource source, PairCollector collector) =>
        JsonRecords.ForEach(source, collector, (record, at) =>
        {
            var summaries = record.Required("summaries");
            if (summaries.ValueKind != JsonValueKind.Array || summaries.GetArrayLength() != 2)
            {
                throw new BadRecordException("field \"summaries\" should be a list of two summaries");
            }
            var choice = record.RequiredInt("choice");
            if (choice is not (0 or 1))
            {
                throw new BadRecordException($"choice {choice} is neither 0 nor 1");
            }
            var confidence = record.Optional("extra")?.OptionalNumber("confidence");
            if (confidence is { } c && c != 5 && (c > 5) != (choice == 1))
            {
                throw new BadRecordException($"confidence {c} contradicts choice {choice}");
            }
            var chosen = summaries[choice];
            var rejected = summaries[1 - choice];
            var strength = confidence is { } level ? Math.Abs(level - 5) / 4 : (double?)null;
            var weight = collector.Options.WeightByConfidence && strength is { } w ? w : 1.0;
            var margin = collector.Options.MarginFrom == DataLoadOptions.ConfidenceMarginField ? strength : null;
            collector.Add(at, Prompt(record.Required("info")), chosen.RequiredString("text").Trim(), rejected.RequiredString("text").Trim(), weight, Subset(chosen, rejected), margin);
        });

    /// <summary>The text to summarize in the paper's layout: a Reddit post (subreddit, title, post) or a news article
    /// (title, article), then "TL;DR:".</summary>
    private static IReadOnlyList<ChatTurn> Prompt(JsonElement info)
    {
        var title = info.OptionalString("title")?.Trim();
        var subreddit = info.OptionalString("subreddit");
        var (label, text) = info.OptionalString("post") is { } post ? ("POST", post)
            : info.OptionalString("article") is { } article ? ("ARTICLE", article)
            : throw new BadRecordException("field \"info\" holds neither \"post\" (Reddit) nor \"article\" (CNN/DailyMail)");
        var lines = new[] { subreddit is null ? null : $"SUBREDDIT: r/{subreddit}", title is null ? null : $"TITLE: {title}", $"{label}: {text.Trim()}" };
        return [new ChatTurn(ChatRole.User, string.Join('\n', lines.OfType<string>()) + "\n\nTL;DR:")];
    }

    private static string Subset(JsonElement chosen, JsonElement rejected) =>
        chosen.OptionalString("policy") == HumanPolicy || rejected.OptionalString("policy") == HumanPolicy
            ? "human-vs-model"
            : "model-vs-model";
}
