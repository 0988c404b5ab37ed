namespace WorldPM.Model;

/// <summary>
/// What <see cref="RewardModel.RewardInputGradients"/> computed for a batch of B sequences of T positions: each
/// sequence's reward [B], the input of layer 0 it ran on [B, T, hidden] and d reward / d that input [B, T, hidden]
/// (row b's gradient is of row b's reward; values at padding positions mean nothing).
/// </summary>
public sealed record InputGradients(float[] Rewards, float[] Inputs, float[] Gradients);
