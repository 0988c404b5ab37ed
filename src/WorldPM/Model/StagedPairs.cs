using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// A training micro-batch's inputs in device buffers of their own: its integers as an <see cref="ActivationArena{T}"/>
/// lays them out and its pair weights. <see cref="Write"/> fills them with queued uploads before a recorded training
/// step is launched; the step copies them into the arena on the device (<see cref="ActivationArena{T}.Load(StagedPairs)"/>),
/// which a replay repeats, so one recording serves every micro-batch of this shape. Made for one
/// <see cref="StagedShape"/>: a batch of another does not fit.
/// </summary>
internal sealed class StagedPairs : IDisposable
{
    private readonly int[] host;

    public StagedPairs(WorldPMContext context, StagedShape shape)
    {
        ArgumentNullException.ThrowIfNull(context);
        Key = shape;
        host = new int[ActivationArena<float>.IntegerCount(shape.Shape)];
        Integers = context.Allocate<int>(host.Length);
        Weights = shape.Weighted ? context.Allocate<float>(shape.Shape.Batch / 2) : null;
    }

    /// <summary>What this staging holds a batch of.</summary>
    public StagedShape Key { get; }

    public BatchShape Shape => Key.Shape;

    public int SeqLen => Key.SeqLen;

    public int Pairs => Key.Shape.Batch / 2;

    /// <summary>i32: the batch's integers (<see cref="ActivationArena{T}.IntegerCount"/> of them).</summary>
    public DeviceBuffer<int> Integers { get; }

    /// <summary>f32 [pairs]: the loss weights, or null for the plain mean.</summary>
    public DeviceBuffer<float>? Weights { get; }

    /// <summary>Queues the uploads of <paramref name="batch"/>, which must be of <see cref="Key"/>'s shape.</summary>
    public void Write(ModelConfig config, PairBatch batch)
    {
        if (StagedShape.Of(config, batch) != Key)
            throw new ArgumentException($"the batch is {StagedShape.Of(config, batch)}; this staging holds {Key}", nameof(batch));
        batch.Sequences.CheckRunnableBy(config);
        ActivationArena<float>.WriteIntegers(batch.Sequences, host);
        Integers.CopyFrom(host);
        Weights?.CopyFrom(batch.Weights);
    }

    public void Dispose()
    {
        Integers.Dispose();
        Weights?.Dispose();
    }
}
