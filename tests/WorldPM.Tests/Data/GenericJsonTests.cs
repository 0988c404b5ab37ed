using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class GenericJsonTests
{
    private static IReadOnlyList<ChatTurn> User(string text) => [new ChatTurn(ChatRole.User, text)];

    [Test]
    public void StringFieldsMakeAOneTurnPrompt()
    {
        using var folder = new TempFolder();
        var path = folder.Write("pairs.jsonl", """
            {"prompt": "2+2?", "chosen": "4", "rejected": "5"}
            {"prompt": "Capital of France?", "chosen": "Paris", "rejected": "Lyon", "weight": 0.5, "subset": "geo"}
            """);

        var pairs = PreferenceDataset.Load(path).Pairs;

        Assert.That(pairs, Has.Count.EqualTo(2));
        Assert.That(pairs[0].Prompt, Is.EqualTo(User("2+2?")));
        Assert.That((pairs[0].Chosen, pairs[0].Rejected, pairs[0].Weight, pairs[0].Subset), Is.EqualTo(("4", "5", 1.0, (string?)null)));
        Assert.That((pairs[1].Chosen, pairs[1].Weight, pairs[1].Subset, pairs[1].Source), Is.EqualTo(("Paris", 0.5, "geo", $"{path}:2")));
    }

    [Test]
    public void MessageListsGiveTurnsAndTheLastAssistantReply()
    {
        using var folder = new TempFolder();
        var path = folder.Write("chat.jsonl", """
            {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello!"}], "rejected": "Go away.", "category": "chat"}
            """);

        var pair = PreferenceDataset.Load(path).Pairs.Single();

        Assert.That(pair.Prompt, Is.EqualTo(new[] { new ChatTurn(ChatRole.System, "Be brief."), new ChatTurn(ChatRole.User, "Hi") }));
        Assert.That((pair.Chosen, pair.Rejected, pair.Subset), Is.EqualTo(("Hello!", "Go away.", "chat")));
    }

    [Test]
    public void WholeConversationsWithoutAPromptShareTheirEarlierTurns()
    {
        using var folder = new TempFolder();
        var path = folder.Write("conversations.jsonl", """
            {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}], "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "What?"}]}
            """);

        var pair = PreferenceDataset.Load(path).Pairs.Single();

        Assert.That(pair.Prompt, Is.EqualTo(User("Hi")));
        Assert.That((pair.Chosen, pair.Rejected), Is.EqualTo(("Hello!", "What?")));
    }

    [Test]
    public void AJsonArrayOfPairsIsReadToo()
    {
        using var folder = new TempFolder();
        var path = folder.Write("pairs.json", """
            [
              {"prompt": "a", "chosen": "b", "rejected": "c", "subset": "s1"},
              {"prompt": "d", "chosen": "e", "rejected": "f", "subset": "s2"}
            ]
            """);

        var pairs = PreferenceDataset.Load(path).Pairs;

        Assert.That(pairs.Select(pair => pair.Subset), Is.EqualTo(new[] { "s1", "s2" }));
        Assert.That(pairs[1].Source, Is.EqualTo($"{path}:3 (record 2)"));
    }
}
