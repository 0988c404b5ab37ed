namespace WorldPM.Model;

/// <summary>
/// The plan of the activation arenas for one batch shape, way of running the last layer
/// (<paramref name="fullLastLayer"/>: at every token, or at the scoring rows only) and choice of
/// <paramref name="recompute"/> (activation recomputation), in carving order:
/// <code>
///   ones [N]                       bias adds, bias gradients, residual adds (a K = 1 GEMM operand)
///   layer 0 .. L-1                 what each layer saves for its backward (LayerActivations); with recompute,
///                                  each layer's input [N, C], then ONE region of layer intermediates that every
///                                  layer's overlay (the longest of them sets its size)
///   head                           last layer output (full last layer only), pooled row, final norm, head,
///                                  rewards, loss
///   scoring rows                   (scoring rows only) the last layer's q, attention output, second block at the
///                                  B scoring rows, forward and gradients; that layer's own activations then stop
///                                  before its second block (see DecoderLayer.ForwardScoringRows)
///   backward scratch               residual gradient + norm gradients, attention / MLP gradients overlaid,
///                                  head gradients (shared by all layers)
/// </code>
/// Per layer that is C N of input plus (3 C + 2 H D + 2 KVH D + 3 I) N elements of the storage type and (H + 2) N
/// fp32 (lse and rstd, which the ops keep in fp32) of intermediates, but for a last layer run at the scoring rows:
/// it drops (2 C + 3 I) N and N fp32 of that, and the head's [N, C] output, and adds (5 C + 4 H D + 6 I) B.
/// Recomputation keeps the L inputs and one layer's intermediates, so it saves L - 1 layers' intermediates (the
/// intermediates still held are the last forward's, which is why the last layer's backward needs no recomputation).
/// The rest is (4 C + max(2 H D + 2 KVH D, 3 I) + 1) N plus a few per-sequence rows. TTensor is a storage-type
/// region, TF32 an fp32 one (the same type in an fp32 model).
/// </summary>
internal sealed class ActivationLayout<TTensor, TF32>(IArenaCarver<TTensor, TF32> arena, BatchShape s,
    bool fullLastLayer, bool recompute)
{
    /// <summary>N ones.</summary>
    public TTensor Ones { get; } = arena.Take(s.N);

    public LayerActivations<TTensor, TF32>[] Layers { get; } = CarveLayers(arena, s, fullLastLayer, recompute);

    public HeadActivations<TTensor, TF32> Head { get; } = new(arena, s, fullLastLayer);

    /// <summary>Null with a full last layer.</summary>
    public ScoringRowActivations<TTensor, TF32>? ScoringRows { get; } = fullLastLayer ? null : new(arena, s);

    public BackwardScratch<TTensor, TF32> Backward { get; } = new(arena, s);

    private static LayerActivations<TTensor, TF32>[] CarveLayers(IArenaCarver<TTensor, TF32> arena, BatchShape s,
        bool fullLastLayer, bool recompute)
    {
        int count = s.Config.NumHiddenLayers;
        bool MlpAtEveryToken(int l) => fullLastLayer || l + 1 < count;
        if (!recompute)
            return [.. Enumerable.Range(0, count).Select(l => new LayerActivations<TTensor, TF32>(arena.Take(s.N * s.C),
                arena, s, MlpAtEveryToken(l)))];
        TTensor[] inputs = [.. Enumerable.Range(0, count).Select(_ => arena.Take(s.N * s.C))];
        return arena.OverlayEach(count, l => new LayerActivations<TTensor, TF32>(inputs[l], arena, s, MlpAtEveryToken(l)));
    }
}
