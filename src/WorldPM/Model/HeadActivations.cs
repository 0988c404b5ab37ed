namespace WorldPM.Model;

/// <summary>
/// The forward tensors after the last layer: the scoring token's hidden state, the final norm, the preference
/// head and the loss. All are per sequence, so tiny next to the layers', but for <see cref="Output"/>.
/// </summary>
internal sealed class HeadActivations<TTensor, TF32>(IArenaCarver<TTensor, TF32> arena, BatchShape s, TTensor output)
{
    /// <summary>The residual stream leaving the last layer [N, C], carved by the layout; only with a full last layer
    /// (default otherwise: the last layer then writes <see cref="Pooled"/> directly).</summary>
    public TTensor Output { get; } = output;

    /// <summary>The scoring token's row of the last layer's output per sequence [B, C].</summary>
    public TTensor Pooled { get; } = arena.Take(s.B * s.C);

    /// <summary>1 / rms of each row of <see cref="Pooled"/> [B].</summary>
    public TF32 PooledRstd { get; } = arena.TakeF32(s.B);

    /// <summary>model.norm(pooled) [B, C], the head input.</summary>
    public TTensor PooledNorm { get; } = arena.Take(s.B * s.C);

    /// <summary>score.0 output [B, h].</summary>
    public TTensor Hidden { get; } = arena.Take(s.B * s.HeadHidden);

    /// <summary>The activation of <see cref="Hidden"/> [B, h].</summary>
    public TTensor Activated { get; } = arena.Take(s.B * s.HeadHidden);

    /// <summary>score.2's output [B] in the storage type.</summary>
    public TTensor Scores { get; } = arena.Take(s.B);

    /// <summary>The rewards [B], <see cref="Scores"/> in fp32 (the loss takes fp32): chosen first, then rejected,
    /// in a pair batch.</summary>
    public TF32 Rewards { get; } = arena.TakeF32(s.B);

    /// <summary>What the fused head's forward keeps for its backward, f32 [B, h + 1] (its layout is the native
    /// library's).</summary>
    public TF32 Saved { get; } = arena.TakeF32(s.B * (s.HeadHidden + 1));

    /// <summary>Per-pair loss weights [B / 2] (room for B).</summary>
    public TF32 Weights { get; } = arena.TakeF32(s.B);

    /// <summary>The Bradley-Terry loss [1].</summary>
    public TF32 Loss { get; } = arena.TakeF32(1);
}
