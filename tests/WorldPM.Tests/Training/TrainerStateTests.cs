using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Training;
using static WorldPM.Tests.Model.ModelTestKit;

namespace WorldPM.Tests.Training;

/// <summary><see cref="Trainer.RestoreState"/> on a state that does not fit the model: refused naming the moment,
/// before anything of the trainer changed.</summary>
public class TrainerStateTests
{
    private static readonly TrainingOptions Optimizer = new() { PairsPerMicroBatch = 4, LearningRate = 1e-2, Seed = 5 };

    public enum Damage { Missing, OneElementShort }

    [TestCase(Damage.Missing, "the training state has no optimizer moment '{0}'")]
    [TestCase(Damage.OneElementShort, "optimizer moment '{0}' has {1} elements; the parameter has {2}")]
    public void AStateWithAMomentThatDoesNotFitIsRefusedAndChangesNothing(Damage damage, string message)
    {
        using WorldPMContext context = Context();
        using var model = new RewardModel(context, Tiny, seed: 2);
        using var trainer = new Trainer(context, model, Optimizer, totalSteps: 10);
        trainer.TrainStep([new PairBatch(Tiny, TrainingRunTests.Pairs(4))]);
        // The saved moments are read from this trainer's buffers when used: it stays alive until the end.
        var saved = new TrainingState();
        trainer.SaveState(saved);
        using var fresh = new RewardModel(context, Tiny, seed: 2);
        // The last tensor of more than one element, so that a short copy of it still has elements.
        Parameter last = fresh.Parameters.Last(p => p.Count > 1);
        string name = TrainingState.SecondMomentName(last.Name);
        Assert.That(fresh.Parameters.TakeWhile(p => p != last).SelectMany(p => saved.Tensors[TrainingState.FirstMomentName(p.Name)].ToFloats()),
            Has.Some.Not.Zero, "the moments before the bad one hold what one step wrote");
        if (damage == Damage.Missing) saved.Tensors.Remove(name);
        else saved.Add(TensorData.FromFloats(name, [last.Count - 1], saved.Tensors[name].ToFloats().AsSpan(1)));
        using var restoring = new Trainer(context, fresh, Optimizer, totalSteps: 10);

        var error = Assert.Throws<InvalidDataException>(() => restoring.RestoreState(saved));

        Assert.That(error!.Message, Is.EqualTo(string.Format(message, name, last.Count - 1, last.Count)));
        // Every moment before the bad one was readable: none of them may have reached the trainer.
        var after = new TrainingState();
        restoring.SaveState(after);
        Assert.That(after.Tensors.Values.SelectMany(t => t.ToFloats()), Is.All.Zero, "moments of a trainer that never stepped");
        Assert.That((restoring.Step, restoring.Updates), Is.EqualTo((0L, 0L)));
    }
}
