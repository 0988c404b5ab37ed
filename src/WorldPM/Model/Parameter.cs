using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// One trainable tensor of a <see cref="RewardModel"/>, under its Hugging Face name, with its fp32 value and
/// gradient. Both buffers are views into the model's flat parameter and gradient storage.
/// </summary>
public sealed class Parameter
{
    internal Parameter(string name, long[] shape, bool decay, DeviceBuffer<float> value, DeviceBuffer<float> grad)
    {
        Name = name;
        Shape = Array.AsReadOnly(shape);
        Decay = decay;
        Value = value;
        Grad = grad;
    }

    /// <summary>The Hugging Face tensor name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The dimensions, outermost first; linear weights are [out, in] as in Hugging Face.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The number of elements.</summary>
    public long Count => Value.Count;

    /// <summary>Whether weight decay applies (false for norm weights and biases).</summary>
    public bool Decay { get; }

    /// <summary>The fp32 values.</summary>
    public DeviceBuffer<float> Value { get; }

    /// <summary>The fp32 gradient; <see cref="RewardModel.ForwardBackward"/> adds into it.</summary>
    public DeviceBuffer<float> Grad { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
