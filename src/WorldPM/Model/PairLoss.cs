using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// The Bradley-Terry loss over a pair batch as the preference head computes it on the device: <see cref="Pairs"/>
/// pairs (chosen rows first, then rejected), optional per-pair <see cref="Weights"/> (null: the plain mean), and the
/// <see cref="Scale"/> the backward starts from (d total / d loss: the loss scale).
/// </summary>
internal readonly record struct PairLoss(int Pairs, DeviceBuffer<float>? Weights, float Scale);
