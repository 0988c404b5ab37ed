using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// How one optimizer step of <see cref="Trainer"/> turns this rank's accumulated gradients into updated weights: the
/// exchange of the gradients between ranks, the inf/NaN check and the global norm, the AdamW step and the AdamW
/// moments that go with it. Chosen once per trainer (<see cref="For"/>), so the step itself has no mode to ask about:
/// <see cref="LocalGradients"/> (one process), <see cref="AllReducedGradients"/> (bucketed all-reduce during the
/// backward) or <see cref="ShardedGradients"/> (ZeRO-1).
/// </summary>
internal interface IGradientSync : IDisposable
{
    /// <summary>The strategy for <paramref name="parallel"/>'s mode, or the local one without data parallelism.</summary>
    static IGradientSync For(WorldPMContext context, RewardModel model, DataParallel? parallel) => parallel switch
    {
        null => new LocalGradients(context, model),
        { ShardOptimizerState: true } => new ShardedGradients(context, model, parallel),
        _ => new AllReducedGradients(context, model, parallel),
    };

    /// <summary>Whether reading the moments of <see cref="Moments"/> is a collective that every rank must take part in
    /// (piece by piece, in the same order: see <see cref="WorldPM.Checkpoints.TrainingStateFile.Drain"/>).</summary>
    bool SavesCollectively { get; }

    /// <summary>Before a micro-batch's forward and backward: the callback the backward calls with each offset from
    /// which on the gradients are final, or null when the exchange does not run during this backward.</summary>
    Action<long>? BeginExchange(bool lastMicroBatch);

    /// <summary>After the last backward, with this rank's sums in <paramref name="metrics"/>' <see
    /// cref="StepMetricsBuffer.RankSums"/>: the gradients this rank steps with are final (the mean over ranks, where
    /// there are several) and the sums are added over ranks, in place on the device (nothing to add in one process).</summary>
    void FinishExchange(StepMetricsBuffer metrics);

    /// <summary>Writes into <see cref="StepMetricsBuffer.GradientCheck"/> whether any rank's gradients hold inf or NaN
    /// and the global norm of the gradients (at the loss scale), on the device: every rank gets the same values.</summary>
    void CheckGradients(StepMetricsBuffer metrics);

    /// <summary>The AdamW step (<paramref name="settings"/>; the learning rate and bias correction from
    /// <paramref name="stepValues"/> on the device, so a recorded step reads each step's), skipped or clipped on the
    /// device by <paramref name="gradientCheck"/> (<see cref="Ops.AdamWStep"/>); the fp32 masters and the working
    /// weights of every rank hold the updated weights afterwards.</summary>
    void UpdateWeights(AdamWSettings settings, AdamWStepValues stepValues, DeviceBuffer<float> gradientCheck);

    /// <summary>The step's metrics once its AdamW step is queued: the one read-back of <paramref name="metrics"/>
    /// (which also runs the exchange's collectives on emu, where they are queued on the stream).</summary>
    StepSums ReadMetrics(StepMetricsBuffer metrics);

    /// <summary>Parameter <paramref name="index"/>'s first and second moments as F32 tensors of its shape named
    /// <paramref name="firstName"/> and <paramref name="secondName"/>, read from the device piece by piece as a writer
    /// asks for them (never whole on the host): the buffers must hold them until then, so write them before the next
    /// step.</summary>
    (TensorData M, TensorData V) Moments(int index, string firstName, string secondName);

    /// <summary>Copies this rank's part of every parameter's moments from <paramref name="moments"/> (one pair per
    /// parameter, in the model's order, each of the parameter's element count and a float dtype).</summary>
    void RestoreMoments(IReadOnlyList<(TensorData M, TensorData V)> moments);
}
