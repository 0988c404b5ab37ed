namespace WorldPM.Model;

/// <summary>
/// The plan of the activation arena for one batch shape, in carving order:
/// <code>
///   ones [N]                       bias adds, bias gradients, residual adds (a K = 1 GEMM operand)
///   layer 0 .. L-1                 what each layer saves for its backward (LayerActivations)
///   head                           last layer output, pooled row, final norm, head, rewards, loss
///   backward scratch               residual gradient + norm gradients, attention / MLP gradients overlaid,
///                                  head gradients (shared by all layers)
/// </code>
/// Per layer that is (4 C + 2 H D + 2 KVH D + 3 I + H + 2) N floats; the rest is
/// (4 C + max(2 H D + 2 KVH D, 3 I) + 1) N plus a few per-sequence rows. Everything is fp32 in this increment.
/// </summary>
internal sealed class ActivationLayout<TTensor>(IArenaCarver<TTensor> arena, BatchShape s)
{
    /// <summary>N ones.</summary>
    public TTensor Ones { get; } = arena.Take(s.N);

    public LayerActivations<TTensor>[] Layers { get; } =
        [.. Enumerable.Range(0, s.Config.NumHiddenLayers).Select(_ => new LayerActivations<TTensor>(arena, s))];

    public HeadActivations<TTensor> Head { get; } = new(arena, s);

    public BackwardScratch<TTensor> Backward { get; } = new(arena, s);
}
