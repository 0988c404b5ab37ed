namespace WorldPM.Native;

/// <summary>
/// The tensors of the fused preference head (<see cref="Ops.PreferenceHeadForward{T}"/>), or their gradients: the final
/// norm's weight [d], Linear(d, h)'s weight [h, d] and bias [h], Linear(h, 1)'s weight [h] and bias [1], all of one
/// storage type.
/// </summary>
public readonly record struct PreferenceHeadWeights<T>(DeviceBuffer<T> NormWeight, DeviceBuffer<T> W1,
    DeviceBuffer<T> B1, DeviceBuffer<T> W2, DeviceBuffer<T> B2) where T : unmanaged;
