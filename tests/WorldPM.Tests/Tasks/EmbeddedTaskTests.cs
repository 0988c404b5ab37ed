using WorldPM.Data;
using WorldPM.Tasks;

namespace WorldPM.Tests.Tasks;

public class EmbeddedTaskTests
{
    private static IEnumerable<PreferencePair> TrainPairs(int seed, int count) =>
        Enumerable.Range(0, count).Select(i => EmbeddedTask.Train(seed, i));

    // An independent checker of each family's answer, from the question text alone.
    private static bool IsCorrect(string question, string answer)
    {
        string[] parts = question.Split(' ');
        if (parts[0] == "sort")
            return answer == string.Join(' ', parts.Skip(1).Select(int.Parse).Order());
        int[] values = parts.Skip(1).Select(int.Parse).ToArray();
        if (parts[0] == "min") return answer == values.Min().ToString();
        Assert.That(parts[0], Is.EqualTo("max"), $"unknown question '{question}'");
        return answer == values.Max().ToString();
    }

    [Test]
    public void ChosenIsCorrectAndRejectedIsWrong()
    {
        foreach (PreferencePair pair in TrainPairs(7, 2000).Concat(EmbeddedTask.HeldOut(7, 500)))
        {
            string question = pair.Prompt.Single().Content;
            Assert.That(IsCorrect(question, pair.Chosen), $"{question} -> {pair.Chosen}");
            Assert.That(IsCorrect(question, pair.Rejected), Is.False, $"{question} -> {pair.Rejected}");
        }
    }

    [Test]
    public void ChosenAndRejectedHaveTheSameLength()
    {
        foreach (PreferencePair pair in TrainPairs(3, 2000))
            Assert.That(pair.Rejected.Length, Is.EqualTo(pair.Chosen.Length), pair.Prompt[0].Content);
    }

    [Test]
    public void HeldOutQuestionsNeverAppearInTraining()
    {
        var train = TrainPairs(11, 20000).Select(p => p.Prompt[0].Content).ToHashSet();
        var heldOut = EmbeddedTask.HeldOut(11, 300);
        Assert.That(heldOut, Has.Count.EqualTo(300));
        Assert.That(heldOut.Count(p => train.Contains(p.Prompt[0].Content)), Is.Zero);
    }

    [Test]
    public void PairsAreAFunctionOfSeedAndIndex()
    {
        PreferencePair a = EmbeddedTask.Train(5, 123), b = EmbeddedTask.Train(5, 123);
        Assert.That((a.Prompt.Single(), a.Chosen, a.Rejected, a.Subset), Is.EqualTo((b.Prompt.Single(), b.Chosen, b.Rejected, b.Subset)));
        Assert.That(TrainPairs(5, 50).Select(p => p.Prompt[0].Content),
            Is.Not.EqualTo(TrainPairs(6, 50).Select(p => p.Prompt[0].Content)));
    }

    [Test]
    public void EveryFamilyAppearsAndIsLabelled()
    {
        var counts = TrainPairs(1, 3000).GroupBy(p => p.Subset).ToDictionary(g => g.Key!, g => g.Count());
        Assert.That(counts.Keys, Is.EquivalentTo(EmbeddedTask.Families));
        Assert.That(counts.Values.Min(), Is.GreaterThan(800));
    }
}
