namespace WorldPM.Model;

/// <summary>What a recorded micro-batch bakes in besides its inputs' values: the batch shape, the longest sequence
/// (packed attention's bound) and whether the loss is weighted.</summary>
internal readonly record struct StagedShape(BatchShape Shape, int SeqLen, bool Weighted)
{
    public static StagedShape Of(ModelConfig config, PairBatch batch) =>
        new(BatchShape.Of(config, batch.Sequences), batch.SeqLen, !batch.Weights.IsEmpty);

    public override string ToString() =>
        $"{Shape.Batch} sequences, {Shape.N} token rows{(Shape.Packed ? $" packed (longest {SeqLen})" : " padded")}" +
        (Weighted ? ", weighted" : "");
}
