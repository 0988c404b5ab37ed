using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>A <see cref="Parameter"/> as the layers of a <see cref="RewardNetwork{T}"/> use it: the working value
/// and the gradient, typed in the storage type T.</summary>
internal sealed class Weight<T>(Parameter parameter) where T : unmanaged
{
    public DeviceBuffer<T> Value { get; } = (DeviceBuffer<T>)parameter.Working;

    public DeviceBuffer<T> Grad { get; } = (DeviceBuffer<T>)parameter.Grad;

    public IReadOnlyList<long> Shape => parameter.Shape;
}
