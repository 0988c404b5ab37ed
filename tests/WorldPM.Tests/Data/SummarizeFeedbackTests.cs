using WorldPM.Data;

namespace WorldPM.Tests.Data;

/// <summary>summarize-from-feedback comparisons of Reddit posts and of CNN/DailyMail articles.</summary>
public class SummarizeFeedbackTests
{
    private const string Summaries = """
        "summaries": [{"text": " first ", "policy": "ref"}, {"text": "second", "policy": "sup"}], "choice": 1
        """;

    [Test]
    public void ARedditPostIsLaidOutWithSubredditTitleAndPost()
    {
        using var folder = new TempFolder();
        var path = folder.Write("reddit.json", $$"""{"info": {"post": " My post. ", "title": "T", "subreddit": "tifu"}, {{Summaries}}}""");

        var pair = PreferenceDataset.Load(path).Pairs.Single();

        Assert.That(pair.Prompt.Single().Content, Is.EqualTo("SUBREDDIT: r/tifu\nTITLE: T\nPOST: My post.\n\nTL;DR:"));
        Assert.That((pair.Chosen, pair.Rejected, pair.Subset), Is.EqualTo(("second", "first", "human-vs-model")));
    }

    [Test]
    public void ACnnDailyMailArticleIsReadFromInfoArticle()
    {
        using var folder = new TempFolder();
        var path = folder.Write("cnndm.json", $$"""
            {"info": {"id": "x", "article": "Rain fell.\nThen it stopped. ", "site": "cnn"}, {{Summaries}}}
            {"info": {"id": "y", "article": "Sun.", "title": "Weather"}, {{Summaries}}}
            """);

        var result = PreferenceDataset.Load(path);

        Assert.That(result.BadRecords, Is.Empty);
        Assert.That(result.Files.Single().Format, Is.EqualTo(DataFormat.SummarizeFromFeedback));
        Assert.That(result.Pairs.Select(p => p.Prompt.Single().Content), Is.EqualTo(new[]
        {
            "ARTICLE: Rain fell.\nThen it stopped.\n\nTL;DR:",
            "TITLE: Weather\nARTICLE: Sun.\n\nTL;DR:",
        }));
    }

    [Test]
    public void InfoWithNeitherPostNorArticleIsABadRecordSayingSo()
    {
        using var folder = new TempFolder();
        var path = folder.Write("none.json", $$"""{"info": {"id": "z"}, {{Summaries}}}""");

        var bad = PreferenceDataset.Load(path).BadRecords.Single();

        Assert.That(bad.Reason, Is.EqualTo("field \"info\" holds neither \"post\" (Reddit) nor \"article\" (CNN/DailyMail)"));
    }
}
