using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>A <see cref="Parameter"/> as the layers of a <see cref="RewardNetwork{T}"/> use it: the working value
/// and the gradient, typed in the storage type T.</summary>
internal sealed class Weight<T>(Parameter parameter) where T : unmanaged
{
    public DeviceBuffer<T> Value { get; } = (DeviceBuffer<T>)parameter.Working;

    /// <summary>Read only by a backward: the first read allocates the model's gradients.</summary>
    public DeviceBuffer<T> Grad => (DeviceBuffer<T>)parameter.Grad;

    public IReadOnlyList<long> Shape => parameter.Shape;
}
