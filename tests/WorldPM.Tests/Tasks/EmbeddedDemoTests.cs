using WorldPM.Native;
using WorldPM.Tasks;
using WorldPM.Training;

namespace WorldPM.Tests.Tasks;

/// <summary>End to end: tokenizer, template, model, trainer and evaluator learn the embedded task.</summary>
public class EmbeddedDemoTests
{
    [Test]
    public void ShortRunLearnsTheHeldOutSplit()
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        var losses = new List<double>();
        EmbeddedDemoResult result = EmbeddedDemo.Run(context,
            new EmbeddedDemoOptions { Steps = 250, HeldOutPairs = 300, EvalEvery = 0 }, onStep: m => losses.Add(m.Loss));

        Assert.That(result.Steps, Is.EqualTo(250));
        Assert.That(losses[0], Is.EqualTo(Math.Log(2)).Within(0.05), "an untrained model scores both sides alike");
        Assert.That(losses.TakeLast(20).Average(), Is.LessThan(0.35), "well below log 2 = 0.693");
        Assert.That(result.HeldOut.Overall.Pairs, Is.EqualTo(300));
        Assert.That(result.HeldOut.Overall.Accuracy, Is.GreaterThan(0.9));
    }

    [Test]
    public void StopsEarlyOnceTheRequestedAccuracyIsReached()
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        var evaluations = new List<double>();
        EmbeddedDemoResult result = EmbeddedDemo.Run(context,
            new EmbeddedDemoOptions { Steps = 400, HeldOutPairs = 100, EvalEvery = 20, StopAtAccuracy = 0.7 },
            onEval: (_, r) => evaluations.Add(r.Overall.Accuracy));

        Assert.That(result.Steps, Is.LessThan(400));
        Assert.That(evaluations[^1], Is.GreaterThanOrEqualTo(0.7));
        Assert.That(evaluations.SkipLast(1), Has.All.LessThan(0.7));
    }
}
