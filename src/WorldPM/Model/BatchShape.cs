namespace WorldPM.Model;

/// <summary>The sizes one batch of <paramref name="Batch"/> sequences needs, in the shape letters of worldpm.h: padded,
/// <paramref name="Tokens"/> positions per sequence; <paramref name="Packed"/>, <paramref name="Tokens"/> real tokens in
/// one stream, <paramref name="Filler"/> of whose sequences after the <paramref name="Batch"/> scored ones only fill it
/// (<see cref="SequenceBatch.WithFiller"/>: attention sees them, nothing else does).</summary>
internal readonly record struct BatchShape(ModelConfig Config, int Batch, int Tokens, bool Packed = false, int Filler = 0)
{
    /// <summary>The shape a model runs <paramref name="sequences"/> in.</summary>
    public static BatchShape Of(ModelConfig config, SequenceBatch sequences) =>
        sequences.Layout == SequenceLayout.Packed
            ? new(config, sequences.Count, sequences.Rows, Packed: true, sequences.FillerSequences)
            : new(config, sequences.Count, sequences.SeqLen);

    /// <summary>The sequences attention runs over: the scored ones and the filler.</summary>
    public long AttendedSequences => (long)Batch + Filler;

    /// <summary>B.</summary>
    public long B => Batch;

    /// <summary>T: the positions of a padded row, or the packed stream's length (then T = N).</summary>
    public long T => Tokens;

    /// <summary>N, the rows of every token-level activation: B T padded, the stream packed.</summary>
    public long N => Packed ? Tokens : (long)Batch * Tokens;

    /// <summary>C, the model width d.</summary>
    public long C => Config.HiddenSize;

    /// <summary>H.</summary>
    public long H => Config.NumAttentionHeads;

    /// <summary>KVH.</summary>
    public long Kvh => Config.NumKeyValueHeads;

    /// <summary>D.</summary>
    public long D => Config.HeadDim;

    /// <summary>H D, the width of q and of the attention output.</summary>
    public long QWidth => H * D;

    /// <summary>KVH D, the width of k and v.</summary>
    public long KvWidth => Kvh * D;

    /// <summary>The MLP width.</summary>
    public long Mlp => Config.IntermediateSize;

    /// <summary>h, the head's hidden width.</summary>
    public long HeadHidden => Config.HeadHiddenSize;
}
