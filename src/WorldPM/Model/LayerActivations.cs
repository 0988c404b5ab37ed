namespace WorldPM.Model;

/// <summary>
/// What one decoder layer's forward saves for its backward, carved from the activation arena (see
/// <see cref="ActivationLayout{TTensor, TF32}"/>). Token-level tensors are [N, width] row-major, N = B T, which is
/// also the [B, T, heads, D] layout attention and RoPE take. Without <c>mlpAtEveryToken</c> (the last
/// layer run at the scoring rows only, see <see cref="DecoderLayer{T}.ForwardScoringRows"/>) the tensors of the
/// second block, from <see cref="Mid"/> on, are not carved and hold default: that layer keeps them in
/// <see cref="ScoringRowActivations{TTensor, TF32}"/>, B rows.
/// <para>
/// <see cref="Input"/> is carved by the caller, the rest here: with activation recomputation every layer keeps its
/// own input while the rest, its intermediates, overlays that of every other layer (see
/// <see cref="ActivationLayout{TTensor, TF32}"/>), rewritten by <see cref="DecoderLayer{T}.Recompute"/> before the
/// layer's backward. In the <see cref="ActivationPlan.ForwardOnly"/> plan <see cref="Input"/> is the one residual
/// stream, which the layer updates in place (<see cref="Mid"/> is the same memory, and so is the output), the
/// attention block's tensors and the MLP block's overlay, and <see cref="SwiGlu"/> is <see cref="Gate"/>'s memory
/// (SwiGLU runs in place).
/// </para>
/// </summary>
internal sealed class LayerActivations<TTensor, TF32>
{
    public LayerActivations(TTensor input, IArenaCarver<TTensor, TF32> arena, BatchShape s, bool mlpAtEveryToken = true,
        bool forwardOnly = false)
    {
        Input = input;
        ForwardOnly = forwardOnly;
        if (forwardOnly) arena.Overlay(() => CarveAttention(arena, s), () => CarveMlp(arena, s, mlpAtEveryToken));
        else
        {
            CarveAttention(arena, s);
            CarveMlp(arena, s, mlpAtEveryToken);
        }
    }

    /// <summary>The <see cref="ActivationPlan.ForwardOnly"/> carving: <see cref="Input"/>, <see cref="Mid"/> and the
    /// layer's output are one buffer, <see cref="SwiGlu"/> is <see cref="Gate"/>, and the layer's input is gone
    /// after its forward.</summary>
    public bool ForwardOnly { get; }

    /// <summary>x, the residual stream entering the layer [N, C].</summary>
    public TTensor Input { get; }

    /// <summary>1 / rms of each row of <see cref="Input"/> [N].</summary>
    public TF32 InputRstd { get; private set; } = default!;

    /// <summary>input_layernorm(x) [N, C].</summary>
    public TTensor AttentionNorm { get; private set; } = default!;

    /// <summary>q after bias and RoPE [N, H D].</summary>
    public TTensor Q { get; private set; } = default!;

    /// <summary>k after bias and RoPE [N, KVH D].</summary>
    public TTensor K { get; private set; } = default!;

    /// <summary>v after bias [N, KVH D].</summary>
    public TTensor V { get; private set; } = default!;

    /// <summary>The attention output before o_proj [N, H D].</summary>
    public TTensor Attention { get; private set; } = default!;

    /// <summary>The logsumexp of each query row [B, H, T].</summary>
    public TF32 Lse { get; private set; } = default!;

    /// <summary>h = x + o_proj(attention), the residual stream between the two blocks [N, C].</summary>
    public TTensor Mid { get; private set; } = default!;

    /// <summary>1 / rms of each row of <see cref="Mid"/> [N].</summary>
    public TF32 MidRstd { get; private set; } = default!;

    /// <summary>post_attention_layernorm(h) [N, C].</summary>
    public TTensor MlpNorm { get; private set; } = default!;

    /// <summary>gate_proj output [N, I].</summary>
    public TTensor Gate { get; private set; } = default!;

    /// <summary>up_proj output [N, I].</summary>
    public TTensor Up { get; private set; } = default!;

    /// <summary>silu(gate) * up, the down_proj input [N, I].</summary>
    public TTensor SwiGlu { get; private set; } = default!;

    private bool CarveAttention(IArenaCarver<TTensor, TF32> arena, BatchShape s)
    {
        InputRstd = arena.TakeF32(s.N);
        AttentionNorm = arena.Take(s.N * s.C);
        Q = arena.Take(s.N * s.QWidth);
        K = arena.Take(s.N * s.KvWidth);
        V = arena.Take(s.N * s.KvWidth);
        Attention = arena.Take(s.N * s.QWidth);
        Lse = arena.TakeF32(s.N * s.H);
        return true;
    }

    private bool CarveMlp(IArenaCarver<TTensor, TF32> arena, BatchShape s, bool mlpAtEveryToken)
    {
        if (!mlpAtEveryToken) return false;
        Mid = ForwardOnly ? Input : arena.Take(s.N * s.C);
        MidRstd = arena.TakeF32(s.N);
        MlpNorm = arena.Take(s.N * s.C);
        Gate = arena.Take(s.N * s.Mlp);
        Up = arena.Take(s.N * s.Mlp);
        SwiGlu = ForwardOnly ? Gate : arena.Take(s.N * s.Mlp);
        return true;
    }
}
