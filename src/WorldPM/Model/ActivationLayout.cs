namespace WorldPM.Model;

/// <summary>
/// The plan of the activation arenas for one batch shape, in carving order:
/// <code>
///   ones [N]                       bias adds, bias gradients, residual adds (a K = 1 GEMM operand)
///   layer 0 .. L-1                 what each layer saves for its backward (LayerActivations)
///   head                           last layer output, pooled row, final norm, head, rewards, loss
///   backward scratch               residual gradient + norm gradients, attention / MLP gradients overlaid,
///                                  head gradients (shared by all layers)
/// </code>
/// Per layer that is (4 C + 2 H D + 2 KVH D + 3 I) N elements of the storage type plus (H + 2) N fp32 (lse and
/// rstd, which the ops keep in fp32); the rest is (4 C + max(2 H D + 2 KVH D, 3 I) + 1) N plus a few
/// per-sequence rows. TTensor is a storage-type region, TF32 an fp32 one (the same type in an fp32 model).
/// </summary>
internal sealed class ActivationLayout<TTensor, TF32>(IArenaCarver<TTensor, TF32> arena, BatchShape s)
{
    /// <summary>N ones.</summary>
    public TTensor Ones { get; } = arena.Take(s.N);

    public LayerActivations<TTensor, TF32>[] Layers { get; } =
        [.. Enumerable.Range(0, s.Config.NumHiddenLayers).Select(_ => new LayerActivations<TTensor, TF32>(arena, s))];

    public HeadActivations<TTensor, TF32> Head { get; } = new(arena, s);

    public BackwardScratch<TTensor, TF32> Backward { get; } = new(arena, s);
}
