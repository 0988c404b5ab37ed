namespace WorldPM.Model;

/// <summary>
/// The last decoder layer's tensors at the scoring rows only (one per sequence, B rows; see
/// <see cref="DecoderLayer{T}.ForwardScoringRows"/>), forward saves and backward gradients, carved from the
/// activation arena. The token-level tensors that layer still needs at every row (input norm, k, v, the scattered
/// q, the attention output and lse) are its ordinary <see cref="LayerActivations{TTensor, TF32}"/>.
/// </summary>
internal sealed class ScoringRowActivations<TTensor, TF32>(IArenaCarver<TTensor, TF32> arena, BatchShape s,
    bool withGradients)
{
    /// <summary>input_layernorm at the scoring rows, the q_proj input [B, C].</summary>
    public TTensor AttentionNorm { get; } = arena.Take(s.B * s.C);

    /// <summary>q at the scoring rows after bias and RoPE [B, H D].</summary>
    public TTensor Q { get; } = arena.Take(s.B * s.QWidth);

    /// <summary>The scoring rows' attention output, the o_proj input [B, H D].</summary>
    public TTensor Attention { get; } = arena.Take(s.B * s.QWidth);

    /// <summary>h = x + o_proj(attention) at the scoring rows [B, C].</summary>
    public TTensor Mid { get; } = arena.Take(s.B * s.C);

    /// <summary>1 / rms of each row of <see cref="Mid"/> [B].</summary>
    public TF32 MidRstd { get; } = arena.TakeF32(s.B);

    /// <summary>post_attention_layernorm(h) [B, C].</summary>
    public TTensor MlpNorm { get; } = arena.Take(s.B * s.C);

    /// <summary>[B, I].</summary>
    public TTensor Gate { get; } = arena.Take(s.B * s.Mlp);

    /// <summary>[B, I].</summary>
    public TTensor Up { get; } = arena.Take(s.B * s.Mlp);

    /// <summary>silu(gate) * up [B, I].</summary>
    public TTensor SwiGlu { get; } = arena.Take(s.B * s.Mlp);

    /// <summary>The gradients of the backward at the scoring rows (the residual one is the head's
    /// <see cref="BackwardScratch{TTensor, TF32}.Pooled"/>); null for a forward with no backward.</summary>
    public ScoringRowGrads? Grads { get; } = withGradients ? new(arena, s) : null;

    internal sealed class ScoringRowGrads(IArenaCarver<TTensor, TF32> arena, BatchShape s)
    {
        /// <summary>Of an RMSNorm's output [B, C] (and of q_proj's input).</summary>
        public TTensor NormInput { get; } = arena.Take(s.B * s.C);

        /// <summary>An RMSNorm backward's dx [B, C].</summary>
        public TTensor NormOutput { get; } = arena.Take(s.B * s.C);

        /// <summary>[B, I].</summary>
        public TTensor SwiGlu { get; } = arena.Take(s.B * s.Mlp);

        /// <summary>[B, I].</summary>
        public TTensor Gate { get; } = arena.Take(s.B * s.Mlp);

        /// <summary>[B, I].</summary>
        public TTensor Up { get; } = arena.Take(s.B * s.Mlp);

        /// <summary>Of the attention output at the scoring rows [B, H D].</summary>
        public TTensor Attention { get; } = arena.Take(s.B * s.QWidth);

        /// <summary>Of q at the scoring rows [B, H D].</summary>
        public TTensor Q { get; } = arena.Take(s.B * s.QWidth);
    }
}
