using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// One trainable tensor of a <see cref="RewardModel"/>, under its Hugging Face name: its fp32 master value, the
/// working copy the forward reads and its gradient, the last two in the model's <see cref="Precision"/>. All three
/// are views into the model's flat parameter storage. The gradient view is made on first read (with the model's
/// gradient buffer, if that is the first use: a model that only scores never allocates gradients).
/// </summary>
public sealed class Parameter
{
    private readonly Func<DeviceBuffer> makeGrad;
    private DeviceBuffer? grad;

    internal Parameter(string name, long[] shape, bool decay, DeviceBuffer<float> value, DeviceBuffer working,
        Func<DeviceBuffer> makeGrad, long offset)
    {
        Name = name;
        Offset = offset;
        Shape = Array.AsReadOnly(shape);
        Decay = decay;
        Value = value;
        Working = working;
        this.makeGrad = makeGrad;
    }

    /// <summary>The Hugging Face tensor name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The dimensions, outermost first; linear weights are [out, in] as in Hugging Face.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Where the tensor starts in the model's flat buffers (<see cref="RewardModel.ParameterValues"/>,
    /// <see cref="RewardModel.ParameterGradients"/>), in elements.</summary>
    public long Offset { get; }

    /// <summary>The number of elements.</summary>
    public long Count => Value.Count;

    /// <summary>Whether weight decay applies (false for norm weights and biases).</summary>
    public bool Decay { get; }

    /// <summary>The fp32 master values: what the optimizer updates and checkpoints hold. After writing them
    /// directly, call <see cref="RewardModel.SyncWorkingWeights"/> so that an f16/bf16 model sees them.</summary>
    public DeviceBuffer<float> Value { get; }

    /// <summary>The weights the forward and backward read, in the model's precision: <see cref="Value"/> itself in
    /// fp32, its rounded copy otherwise (which the AdamW step rewrites in the same pass as the master).</summary>
    public DeviceBuffer Working { get; }

    /// <summary>The gradient, in the model's precision; <see cref="RewardModel.ForwardBackward"/> adds into it.
    /// Read it with <see cref="DeviceBufferFloats.ToFloats"/>.</summary>
    public DeviceBuffer Grad => grad ??= makeGrad();

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [{string.Join(", ", Shape)}]";
}
