using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class HhRlhfTests
{
    [Test]
    public void SplitsAtTheLastAssistantTurnAndParsesTheTurnsBefore()
    {
        using var folder = new TempFolder();
        var path = folder.Write("hh.jsonl", """
            {"chosen": "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: Boil an egg?\n\nAssistant: About 10 minutes.", "rejected": "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: Boil an egg?\n\nAssistant: Eggs are nice."}
            """);

        var pair = PreferenceDataset.Load(path).Pairs.Single();

        Assert.That(pair.Prompt, Is.EqualTo(new[]
        {
            new ChatTurn(ChatRole.User, "Hi"),
            new ChatTurn(ChatRole.Assistant, "Hello."),
            new ChatTurn(ChatRole.User, "Boil an egg?"),
        }));
        Assert.That((pair.Chosen, pair.Rejected), Is.EqualTo(("About 10 minutes.", "Eggs are nice.")));
    }

    [Test]
    public void TranscriptsWhosePromptsDifferAreBadRecords()
    {
        using var folder = new TempFolder();
        var path = folder.Write("hh.jsonl", """
            {"chosen": "\n\nHuman: A\n\nAssistant: x", "rejected": "\n\nHuman: B\n\nAssistant: y"}
            {"chosen": "\n\nHuman: A", "rejected": "\n\nHuman: A\n\nAssistant: y"}
            """);

        var result = PreferenceDataset.Load(path, new DataLoadOptions { Format = DataFormat.HhRlhf });

        Assert.That(result.Pairs, Is.Empty);
        Assert.That(result.BadRecords.Select(bad => (bad.Location.Line, bad.Reason)), Is.EqualTo(new[]
        {
            ((int?)1, "chosen and rejected transcripts differ before their last Assistant turn"),
            ((int?)2, "\"chosen\" transcript has no \"\\n\\nAssistant:\" turn"),
        }));
    }
}
