namespace WorldPM.Model;

/// <summary>
/// Gradient buffers of the backward, shared by every layer (a layer's backward is done with them before the
/// next starts). The attention and the MLP gradients are never live at the same time, so they overlay.
/// </summary>
internal sealed class BackwardScratch<TTensor, TF32>
{
    public BackwardScratch(IArenaCarver<TTensor, TF32> arena, BatchShape s)
    {
        Residual = arena.Take(s.N * s.C);
        NormInput = arena.Take(s.N * s.C);
        NormOutput = arena.Take(s.N * s.C);
        (Attention, Mlp) = arena.Overlay(() => new AttentionGrads(arena, s), () => new MlpGrads(arena, s));
        Rewards = arena.TakeF32(s.B);
        Scores = arena.Take(s.B);
        Activated = arena.Take(s.B * s.HeadHidden);
        Hidden = arena.Take(s.B * s.HeadHidden);
        PooledNorm = arena.Take(s.B * s.C);
        Pooled = arena.Take(s.B * s.C);
    }

    /// <summary>The gradient of the residual stream [N, C], carried down through the layers in place.</summary>
    public TTensor Residual { get; }

    /// <summary>The gradient of an RMSNorm's output [N, C] (sum over the projections that read it).</summary>
    public TTensor NormInput { get; }

    /// <summary>The gradient an RMSNorm backward writes for its input [N, C], added into <see cref="Residual"/>.</summary>
    public TTensor NormOutput { get; }

    public AttentionGrads Attention { get; }

    public MlpGrads Mlp { get; }

    /// <summary>d loss / d reward [B], fp32 from the loss.</summary>
    public TF32 Rewards { get; }

    /// <summary><see cref="Rewards"/> in the storage type: the gradient of score.2's output [B].</summary>
    public TTensor Scores { get; }

    /// <summary>[B, h].</summary>
    public TTensor Activated { get; }

    /// <summary>[B, h].</summary>
    public TTensor Hidden { get; }

    /// <summary>[B, C].</summary>
    public TTensor PooledNorm { get; }

    /// <summary>[B, C].</summary>
    public TTensor Pooled { get; }

    /// <summary>Gradients inside the attention block.</summary>
    internal sealed class AttentionGrads(IArenaCarver<TTensor, TF32> arena, BatchShape s)
    {
        /// <summary>Of the attention output [N, H D].</summary>
        public TTensor Output { get; } = arena.Take(s.N * s.QWidth);

        /// <summary>[N, H D].</summary>
        public TTensor Q { get; } = arena.Take(s.N * s.QWidth);

        /// <summary>[N, KVH D].</summary>
        public TTensor K { get; } = arena.Take(s.N * s.KvWidth);

        /// <summary>[N, KVH D].</summary>
        public TTensor V { get; } = arena.Take(s.N * s.KvWidth);
    }

    /// <summary>Gradients inside the MLP block.</summary>
    internal sealed class MlpGrads(IArenaCarver<TTensor, TF32> arena, BatchShape s)
    {
        /// <summary>Of the SwiGLU output [N, I].</summary>
        public TTensor SwiGlu { get; } = arena.Take(s.N * s.Mlp);

        /// <summary>[N, I].</summary>
        public TTensor Gate { get; } = arena.Take(s.N * s.Mlp);

        /// <summary>[N, I].</summary>
        public TTensor Up { get; } = arena.Take(s.N * s.Mlp);
    }
}
