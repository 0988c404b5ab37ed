namespace WorldPM.Model;

/// <summary>
/// The plan of the activation arenas for one batch shape, way of running the last layer
/// (<paramref name="fullLastLayer"/>: at every token, or at the scoring rows only) and <paramref name="plan"/> of
/// what the layers keep, in carving order:
/// <code>
///   ones [N]                       bias adds, bias gradients, residual adds (a K = 1 GEMM operand)
///   layer 0 .. L-1                 KeepAll: what each layer saves for its backward (LayerActivations);
///                                  Recompute: each layer's input [N, C], then ONE region of layer intermediates
///                                  that every layer's overlay (the longest of them sets its size);
///                                  ForwardOnly: one residual stream [N, C] every layer updates in place, then one
///                                  region of a layer's working set shared by all layers
///   head                           last layer output (full last layer only; ForwardOnly: the residual stream),
///                                  pooled row, final norm, head, rewards, loss
///   scoring rows                   (scoring rows only) the last layer's q, attention output, second block at the
///                                  B scoring rows, forward and (not ForwardOnly) gradients; that layer's own
///                                  activations then stop before its second block (see DecoderLayer.ForwardScoringRows)
///   backward scratch               (not ForwardOnly) residual gradient + norm gradients, attention / MLP gradients
///                                  overlaid, head gradients (shared by all layers)
/// </code>
/// Per layer that is C N of input plus (3 C + 2 H D + 2 KVH D + 3 I) N elements of the storage type and (H + 2) N
/// fp32 (lse and rstd, which the ops keep in fp32) of intermediates, but for a last layer run at the scoring rows:
/// it drops (2 C + 3 I) N and N fp32 of that, and the head's [N, C] output, and adds (5 C + 4 H D + 6 I) B.
/// Recomputation keeps the L inputs and one layer's intermediates, so it saves L - 1 layers' intermediates (the
/// intermediates still held are the last forward's, which is why the last layer's backward needs no recomputation).
/// The backward scratch is (4 C + max(2 H D + 2 KVH D, 3 I) + 1) N plus a few per-sequence rows. ForwardOnly holds
/// C N of residual stream plus max((C + 2 H D + 2 KVH D) N + (H + 1) N fp32, (C + 2 I) N + N fp32) of working set
/// (the attention block, or the MLP block with SwiGLU in place over gate), whatever L. TTensor is a storage-type
/// region, TF32 an fp32 one (the same type in an fp32 model).
/// </summary>
internal sealed class ActivationLayout<TTensor, TF32>
{
    public ActivationLayout(IArenaCarver<TTensor, TF32> arena, BatchShape s, bool fullLastLayer, ActivationPlan plan)
    {
        bool forwardOnly = plan == ActivationPlan.ForwardOnly;
        Ones = arena.Take(s.N);
        Layers = CarveLayers(arena, s, fullLastLayer, plan);
        TTensor output = !fullLastLayer ? default! : forwardOnly ? Layers[^1].Input : arena.Take(s.N * s.C);
        Head = new(arena, s, output);
        ScoringRows = fullLastLayer ? null : new(arena, s, withGradients: !forwardOnly);
        Backward = forwardOnly ? null : new(arena, s);
    }

    /// <summary>N ones.</summary>
    public TTensor Ones { get; }

    public LayerActivations<TTensor, TF32>[] Layers { get; }

    public HeadActivations<TTensor, TF32> Head { get; }

    /// <summary>Null with a full last layer.</summary>
    public ScoringRowActivations<TTensor, TF32>? ScoringRows { get; }

    /// <summary>Null in the <see cref="ActivationPlan.ForwardOnly"/> plan, which has no backward.</summary>
    public BackwardScratch<TTensor, TF32>? Backward { get; }

    private static LayerActivations<TTensor, TF32>[] CarveLayers(IArenaCarver<TTensor, TF32> arena, BatchShape s,
        bool fullLastLayer, ActivationPlan plan)
    {
        int count = s.Config.NumHiddenLayers;
        bool MlpAtEveryToken(int l) => fullLastLayer || l + 1 < count;
        switch (plan)
        {
            case ActivationPlan.KeepAll:
                return [.. Enumerable.Range(0, count).Select(l => new LayerActivations<TTensor, TF32>(arena.Take(s.N * s.C),
                    arena, s, MlpAtEveryToken(l)))];
            case ActivationPlan.Recompute:
                TTensor[] inputs = [.. Enumerable.Range(0, count).Select(_ => arena.Take(s.N * s.C))];
                return arena.OverlayEach(count, l => new LayerActivations<TTensor, TF32>(inputs[l], arena, s, MlpAtEveryToken(l)));
            default:
                TTensor stream = arena.Take(s.N * s.C);
                return arena.OverlayEach(count, l => new LayerActivations<TTensor, TF32>(stream, arena, s, MlpAtEveryToken(l),
                    forwardOnly: true));
        }
    }
}
