using WorldPM.Data;

namespace WorldPM.Tests.Data;

/// <summary>Records whose chosen and rejected sides are lists of plain-string responses.</summary>
public class ResponseListTests
{
    [Test]
    public void EveryChosenResponseMeetsEveryRejectedOne()
    {
        using var folder = new TempFolder();
        var path = folder.Write("lists.jsonl", """
            {"prompt": "2+2?", "chosen": ["4", "four"], "rejected": ["5", "22", "fish"], "subset": "math"}
            """);

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Pairs.Select(p => (p.Chosen, p.Rejected)), Is.EquivalentTo(new[]
        {
            ("4", "5"), ("4", "22"), ("4", "fish"), ("four", "5"), ("four", "22"), ("four", "fish"),
        }));
        Assert.That(result.Pairs.Select(p => p.Subset), Is.All.EqualTo("math"), "two by three is not the style convention");
        Assert.That(result.BadRecords, Is.Empty);
    }

    [Test]
    public void ThreeByThreeIsLabelledByStyleDifficulty()
    {
        using var folder = new TempFolder();
        var path = folder.Write("styled.jsonl", """
            {"prompt": "Why is the sky blue?", "chosen": ["c0", "c1", "c2"], "rejected": ["r0", "r1", "r2"], "domain": "chat"}
            {"prompt": "Name a prime.", "chosen": ["c0", "c1", "c2"], "rejected": ["r0", "r1", "r2"]}
            """);

        var pairs = PreferenceDataset.Load(path).Pairs;

        Assert.That(pairs, Has.Count.EqualTo(18));
        string SubsetOf(string chosen, string rejected, string prompt) =>
            pairs.Single(p => p.Chosen == chosen && p.Rejected == rejected && p.Prompt[0].Content == prompt).Subset!;
        // chosen index i against rejected index j: i < j hard, i == j normal, i > j easy (by hand, all nine)
        string[,] expected = { { "normal", "hard", "hard" }, { "easy", "normal", "hard" }, { "easy", "easy", "normal" } };
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                Assert.That(SubsetOf($"c{i}", $"r{j}", "Name a prime."), Is.EqualTo(expected[i, j]), $"chosen {i}, rejected {j}");
                Assert.That(SubsetOf($"c{i}", $"r{j}", "Why is the sky blue?"), Is.EqualTo("chat/" + expected[i, j]));
            }
        }
    }

    [Test]
    public void ASingleResponseOnOneSideIsAListOfOne()
    {
        using var folder = new TempFolder();
        var path = folder.Write("one.jsonl", """{"prompt": "p", "chosen": "good", "rejected": ["bad", "worse"]}""");

        Assert.That(PreferenceDataset.Load(path).Pairs.Select(p => p.Rejected), Is.EqualTo(new[] { "bad", "worse" }));
    }

    [Test]
    public void ListsWithoutAPromptOrMixedWithMessagesAreBadRecordsWithTheRightReason()
    {
        using var folder = new TempFolder();
        var path = folder.Write("bad.jsonl", """
            {"chosen": ["a", "b"], "rejected": ["c"]}
            {"prompt": "p", "chosen": ["a", "b"], "rejected": [{"role": "assistant", "content": "c"}]}
            {"prompt": "p", "chosen": ["a"], "rejected": ["c"]}
            """);

        var result = PreferenceDataset.Load(path);

        Assert.That(result.Pairs, Has.Count.EqualTo(1));
        Assert.That(result.BadRecords.Select(b => b.Reason), Is.EqualTo(new[]
        {
            "missing field \"prompt\" (needed when \"chosen\" or \"rejected\" is a list of responses)",
            "field \"rejected\" should be a response or a list of responses (strings) like the other side, not an array holding something else than strings",
        }));
        Assert.That(result.BadRecords.Select(b => b.Location.Line), Is.EqualTo(new[] { 1, 2 }));
    }
}
