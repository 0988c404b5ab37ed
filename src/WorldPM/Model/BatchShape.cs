namespace WorldPM.Model;

/// <summary>The sizes one batch of <paramref name="Batch"/> sequences of <paramref name="Tokens"/> positions needs,
/// in the shape letters of worldpm.h.</summary>
internal readonly record struct BatchShape(ModelConfig Config, int Batch, int Tokens)
{
    /// <summary>B.</summary>
    public long B => Batch;

    /// <summary>T.</summary>
    public long T => Tokens;

    /// <summary>N = B T, the rows of every token-level activation.</summary>
    public long N => (long)Batch * Tokens;

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
