namespace WorldPM.Model;

/// <summary>
/// The plan of the activation arenas for one batch shape and way of running the last layer
/// (<paramref name="fullLastLayer"/>: at every token, or at the scoring rows only), in carving order:
/// <code>
///   ones [N]                       bias adds, bias gradients, residual adds (a K = 1 GEMM operand)
///   layer 0 .. L-1                 what each layer saves for its backward (LayerActivations)
///   head                           last layer output (full last layer only), pooled row, final norm, head,
///                                  rewards, loss
///   scoring rows                   (scoring rows only) the last layer's q, attention output, second block at the
///                                  B scoring rows, forward and gradients; that layer's own activations then stop
///                                  before its second block (see DecoderLayer.ForwardScoringRows)
///   backward scratch               residual gradient + norm gradients, attention / MLP gradients overlaid,
///                                  head gradients (shared by all layers)
/// </code>
/// Per layer that is (4 C + 2 H D + 2 KVH D + 3 I) N elements of the storage type plus (H + 2) N fp32 (lse and
/// rstd, which the ops keep in fp32), but for a last layer run at the scoring rows: it drops (2 C + 3 I) N and
/// N fp32 of that, and the head's [N, C] output, and adds (5 C + 4 H D + 6 I) B. The rest is
/// (4 C + max(2 H D + 2 KVH D, 3 I) + 1) N plus a few per-sequence rows. TTensor is a storage-type region, TF32 an fp32 one (the same type in an fp32 model).
/// </summary>
internal sealed class ActivationLayout<TTensor, TF32>(IArenaCarver<TTensor, TF32> arena, BatchShape s,
    bool fullLastLayer)
{
    /// <summary>N ones.</summary>
    public TTensor Ones { get; } = arena.Take(s.N);

    public LayerActivations<TTensor, TF32>[] Layers { get; } =
    [
        .. Enumerable.Range(0, s.Config.NumHiddenLayers).Select(l =>
            new LayerActivations<TTensor, TF32>(arena, s, fullLastLayer || l + 1 < s.Config.NumHiddenLayers)),
    ];

    public HeadActivations<TTensor, TF32> Head { get; } = new(arena, s, fullLastLayer);

    /// <summary>Null with a full last layer.</summary>
    public ScoringRowActivations<TTensor, TF32>? ScoringRows { get; } = fullLastLayer ? null : new(arena, s);

    public BackwardScratch<TTensor, TF32> Backward { get; } = new(arena, s);
}
