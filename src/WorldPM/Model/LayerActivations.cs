namespace WorldPM.Model;

/// <summary>
/// What one decoder layer's forward saves for its backward, carved from the activation arena (see
/// <see cref="ActivationLayout{TTensor, TF32}"/>). Token-level tensors are [N, width] row-major, N = B T, which is
/// also the [B, T, heads, D] layout attention and RoPE take. Without <paramref name="mlpAtEveryToken"/> (the last
/// layer run at the scoring rows only, see <see cref="DecoderLayer{T}.ForwardScoringRows"/>) the tensors of the
/// second block, from <see cref="Mid"/> on, are not carved and hold default: that layer keeps them in
/// <see cref="ScoringRowActivations{TTensor, TF32}"/>, B rows.
/// <para>
/// <see cref="Input"/> is carved by the caller, the rest here: with activation recomputation every layer keeps its
/// own input while the rest, its intermediates, overlays that of every other layer (see
/// <see cref="ActivationLayout{TTensor, TF32}"/>), rewritten by <see cref="DecoderLayer{T}.Recompute"/> before the
/// layer's backward.
/// </para>
/// </summary>
internal sealed class LayerActivations<TTensor, TF32>(TTensor input, IArenaCarver<TTensor, TF32> arena, BatchShape s,
    bool mlpAtEveryToken = true)
{
    /// <summary>x, the residual stream entering the layer [N, C].</summary>
    public TTensor Input { get; } = input;

    /// <summary>1 / rms of each row of <see cref="Input"/> [N].</summary>
    public TF32 InputRstd { get; } = arena.TakeF32(s.N);

    /// <summary>input_layernorm(x) [N, C].</summary>
    public TTensor AttentionNorm { get; } = arena.Take(s.N * s.C);

    /// <summary>q after bias and RoPE [N, H D].</summary>
    public TTensor Q { get; } = arena.Take(s.N * s.QWidth);

    /// <summary>k after bias and RoPE [N, KVH D].</summary>
    public TTensor K { get; } = arena.Take(s.N * s.KvWidth);

    /// <summary>v after bias [N, KVH D].</summary>
    public TTensor V { get; } = arena.Take(s.N * s.KvWidth);

    /// <summary>The attention output before o_proj [N, H D].</summary>
    public TTensor Attention { get; } = arena.Take(s.N * s.QWidth);

    /// <summary>The logsumexp of each query row [B, H, T].</summary>
    public TF32 Lse { get; } = arena.TakeF32(s.N * s.H);

    /// <summary>h = x + o_proj(attention), the residual stream between the two blocks [N, C].</summary>
    public TTensor Mid { get; } = mlpAtEveryToken ? arena.Take(s.N * s.C) : default!;

    /// <summary>1 / rms of each row of <see cref="Mid"/> [N].</summary>
    public TF32 MidRstd { get; } = mlpAtEveryToken ? arena.TakeF32(s.N) : default!;

    /// <summary>post_attention_layernorm(h) [N, C].</summary>
    public TTensor MlpNorm { get; } = mlpAtEveryToken ? arena.Take(s.N * s.C) : default!;

    /// <summary>gate_proj output [N, I].</summary>
    public TTensor Gate { get; } = mlpAtEveryToken ? arena.Take(s.N * s.Mlp) : default!;

    /// <summary>up_proj output [N, I].</summary>
    public TTensor Up { get; } = mlpAtEveryToken ? arena.Take(s.N * s.Mlp) : default!;

    /// <summary>silu(gate) * up, the down_proj input [N, I].</summary>
    public TTensor SwiGlu { get; } = mlpAtEveryToken ? arena.Take(s.N * s.Mlp) : default!;
}
