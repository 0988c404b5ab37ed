using WorldPM.Data;
using WorldPM.Explain;
using WorldPM.Native;
using WorldPM.Tasks;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Explain;

/// <summary>
/// On a model trained on the embedded task, whose chosen and rejected sort answers differ only in two swapped
/// numbers: how often the answer position whose attribution differs most between the chosen and the rejected answer
/// (what drives the preference) is one of the swapped numbers. Chance is 2 / (numbers in the answer), about 0.5 for
/// the task's 3- to 5-number lists.
/// </summary>
public class DemoModelAttributionTests
{
    private const int Pairs = 20;

    [Convergence]
    [Test]
    public void TheSwappedNumbersGetTheLargestAttributions()
    {
        using var context = WorldPMContext.Create(TestBackend.Kind);
        var template = new ChatTemplate(ByteTokenizer.Instance);
        var hits = AttributionMethods.Names.ToDictionary(m => m, _ => 0);
        double chance = 0;
        int explained = 0;
        EmbeddedDemo.Run(context, new EmbeddedDemoOptions { Steps = 400, HeldOutPairs = 100, EvalEvery = 20, StopAtAccuracy = 0.85 },
            onTrained: model =>
            {
                foreach (PreferencePair pair in EmbeddedTask.HeldOut(seed: 1, 400).Where(p => p.Subset == "sort").Take(Pairs))
                {
                    string[] chosen = pair.Chosen.Split(' '), rejected = pair.Rejected.Split(' ');
                    var differing = Enumerable.Range(0, chosen.Length).Where(i => chosen[i] != rejected[i]).ToHashSet();
                    foreach (string method in AttributionMethods.Names)
                    {
                        double[] c = NumberValues(model, template, pair, pair.Chosen, method), r = NumberValues(model, template, pair, pair.Rejected, method);
                        int top = Enumerable.Range(0, c.Length).MaxBy(i => Math.Abs(c[i] - r[i]));
                        if (differing.Contains(top)) hits[method]++;
                    }
                    chance += 2.0 / chosen.Length;
                    explained++;
                }
            });
        chance /= explained;
        foreach (var (method, count) in hits)
            TestContext.Out.WriteLine($"{method}: the largest chosen-minus-rejected attribution falls on a swapped number in {count}/{explained} pairs ({(double)count / explained:P0}; chance {chance:P0})");
        Assert.That(explained, Is.EqualTo(Pairs));
        Assert.That(hits.Values.Max() / (double)explained, Is.GreaterThan(chance + 0.15), "the best method beats chance clearly");
    }

    /// <summary>The attribution of each number of <paramref name="answer"/> (the sum over its tokens; the answers are
    /// one digit per number).</summary>
    private static double[] NumberValues(WorldPM.Model.RewardModel model, ChatTemplate template, PreferencePair pair, string answer, string method)
    {
        ExplainedSequence sequence = ExplainedSequence.Build(template, pair.Prompt, answer, model.Config.MaxPositionEmbeddings);
        Attribution a = method switch
        {
            AttributionMethods.GradientTimesInput => GradientTimesInput.Explain(model, sequence),
            AttributionMethods.IntegratedGradients => IntegratedGradients.Explain(model, sequence),
            _ => ShapleySampling.Explain(model, sequence, samples: 8),
        };
        var values = new double[answer.Split(' ').Length];
        foreach (AttributionUnit u in a.Units.Where(u => u.Part == SequencePart.Response && !string.IsNullOrWhiteSpace(u.Text)))
            values[answer[..u.Start].Count(ch => ch == ' ')] += u.Value;
        return values;
    }
}
