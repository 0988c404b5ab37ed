namespace WorldPM.Model;

/// <summary>What one <see cref="RewardModel.ForwardBackward"/> call measured.</summary>
/// <param name="Loss">The Bradley-Terry loss, mean (or weighted mean) over the pairs, without the loss scale.</param>
/// <param name="ChosenRewards">The reward of each pair's chosen response.</param>
/// <param name="RejectedRewards">The reward of each pair's rejected response.</param>
public sealed record PairStepResult(float Loss, float[] ChosenRewards, float[] RejectedRewards);
