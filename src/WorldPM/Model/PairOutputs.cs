using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// Where a forward and backward over preference pairs left its loss and rewards: on the device, in the activation
/// arena, valid until the model's next forward. A training step adds them into its device metrics without reading
/// them (<see cref="Ops.PairMetrics"/>); <see cref="Read"/> brings them to the host for a caller that wants them.
/// </summary>
/// <param name="Loss">f32 [1]: the mean (or weighted mean) loss, without the loss scale.</param>
/// <param name="Rewards">f32 [at least 2 <paramref name="Pairs"/>]: the chosen rewards, then the rejected ones.</param>
/// <param name="Pairs">The pairs of the batch.</param>
internal readonly record struct PairOutputs(DeviceBuffer<float> Loss, DeviceBuffer<float> Rewards, int Pairs)
{
    /// <summary>The values the host already holds (a loss computed on the host), or null: then <see cref="Read"/>
    /// copies them from the device.</summary>
    public PairStepResult? OnHost { get; init; }

    /// <summary>The loss and the rewards on the host (a read-back unless <see cref="OnHost"/> has them).</summary>
    public PairStepResult Read()
    {
        if (OnHost is not null) return OnHost;
        float[] loss = new float[1], rewards = new float[2 * Pairs];
        Loss.CopyTo(loss);
        Rewards.CopyTo(rewards);
        return new PairStepResult(loss[0], rewards[..Pairs], rewards[Pairs..]);
    }
}
