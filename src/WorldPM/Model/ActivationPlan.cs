namespace WorldPM.Model;

/// <summary>What an activation arena keeps of the decoder layers (see <see cref="ActivationLayout{TTensor, TF32}"/>).</summary>
internal enum ActivationPlan
{
    /// <summary>Training: every layer keeps its input and its intermediates for the backward.</summary>
    KeepAll,

    /// <summary>Training with activation recomputation: every layer keeps its input; one region of intermediates is
    /// shared by all layers and rewritten before each layer's backward.</summary>
    Recompute,

    /// <summary>A forward with no backward (scoring): one residual stream that each layer updates in place and one
    /// layer's working set, shared by all layers, in which the attention block's tensors and the MLP block's overlay
    /// (the first are dead once o_proj has added into the stream). Nothing is kept for a backward, and no backward
    /// scratch is carved.</summary>
    ForwardOnly,
}
