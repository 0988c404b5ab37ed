using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// One Qwen2 decoder layer, forward and backward written out (a Llama layer is the same without the q/k/v biases,
/// <see cref="ModelConfig.AttentionBias"/>):
/// <code>
///   n = input_layernorm(x)
///   q, k, v = n Wq^T + bq, n Wk^T + bk, n Wv^T + bv;  RoPE(q), RoPE(k)   (positions 0.. of each sequence)
///   h = x + attention(q, k, v) Wo^T                                      (causal within a sequence, GQA)
///   m = post_attention_layernorm(h)
///   y = h + (silu(m Wg^T) * m Wu^T) Wd^T
/// </code>
/// Residual adds in the forward cost nothing extra: h starts as a copy of x and o_proj accumulates into it
/// (GEMM beta = 1), likewise y and down_proj. In the backward the residual gradient lives in one buffer that
/// each block updates in place: dh = dy + RMSNorm_bwd(...), dx = dh + RMSNorm_bwd(...) (see <see cref="Residual"/>).
/// Weights, activations and gradients are of the storage type T; norm statistics and lse are fp32.
/// </summary>
internal sealed class DecoderLayer<T> where T : unmanaged
{
    private readonly WorldPMContext context;
    private readonly ModelConfig config;
    private readonly Weight<T> inputNorm, postAttentionNorm;
    private readonly Linear<T> qProj, kProj, vProj, oProj, gateProj, upProj, downProj;

    public DecoderLayer(WorldPMContext context, ModelConfig config, ParameterStore<T> store, int index)
    {
        this.context = context;
        this.config = config;
        string p = DecoderLayer.Prefix(index);
        inputNorm = store[p + "input_layernorm.weight"];
        postAttentionNorm = store[p + "post_attention_layernorm.weight"];
        qProj = new Linear<T>(store[p + "self_attn.q_proj.weight"], Bias(store, p + "self_attn.q_proj.bias"));
        kProj = new Linear<T>(store[p + "self_attn.k_proj.weight"], Bias(store, p + "self_attn.k_proj.bias"));
        vProj = new Linear<T>(store[p + "self_attn.v_proj.weight"], Bias(store, p + "self_attn.v_proj.bias"));
        oProj = new Linear<T>(store[p + "self_attn.o_proj.weight"]);
        gateProj = new Linear<T>(store[p + "mlp.gate_proj.weight"]);
        upProj = new Linear<T>(store[p + "mlp.up_proj.weight"]);
        downProj = new Linear<T>(store[p + "mlp.down_proj.weight"]);
    }

    private Weight<T>? Bias(ParameterStore<T> store, string name) => config.AttentionBias ? store[name] : null;

    private float Eps => (float)config.RmsNormEps;

    private float Theta => (float)config.RopeTheta;

    /// <summary>Runs the layer on a.Input, saving into <paramref name="a"/>, and writes the layer's output (in the
    /// forward-only plan that is a.Input itself, updated in place).</summary>
    public void Forward(ActivationArena<T> arena, LayerActivations<DeviceBuffer<T>, DeviceBuffer<float>> a,
        DeviceBuffer<T> output)
    {
        ForwardToDownProjInput(arena, a);
        BatchShape s = arena.Shape;
        if (!a.ForwardOnly) output.CopyFrom(a.Mid);  // forward only, the output is the stream a.Mid already is
        downProj.Forward(context, a.SwiGlu, output, s.N, arena, accumulate: true);
    }

    /// <summary>
    /// Activation recomputation: runs <see cref="Forward"/> again on a.Input (kept) to rewrite its intermediates in
    /// <paramref name="a"/>, which the other layers' forwards overwrote, right before <see cref="Backward"/> reads
    /// them. The same ops on the same input, so the same bits. The output is left alone: the next layer's input
    /// already holds it and the backward does not read it, which spares down_proj.
    /// </summary>
    public void Recompute(ActivationArena<T> arena, LayerActivations<DeviceBuffer<T>, DeviceBuffer<float>> a) =>
        ForwardToDownProjInput(arena, a);

    /// <summary>The forward up to down_proj's input, the SwiGLU output: everything the backward reads.</summary>
    private void ForwardToDownProjInput(ActivationArena<T> arena, LayerActivations<DeviceBuffer<T>, DeviceBuffer<float>> a)
    {
        BatchShape s = arena.Shape;
        Ops.RmsNormForward(context, a.Input, inputNorm.Value, a.AttentionNorm, a.InputRstd, s.N, s.C, Eps);
        qProj.Forward(context, a.AttentionNorm, a.Q, s.N, arena);
        kProj.Forward(context, a.AttentionNorm, a.K, s.N, arena);
        vProj.Forward(context, a.AttentionNorm, a.V, s.N, arena);
        RotateTokens(arena, a.Q, s.H, forward: true);
        RotateTokens(arena, a.K, s.Kvh, forward: true);
        AttentionForward(arena, a);
        if (!a.ForwardOnly) a.Mid.CopyFrom(a.Input);  // forward only, a.Mid is a.Input: o_proj adds in place
        oProj.Forward(context, a.Attention, a.Mid, s.N, arena, accumulate: true);

        Ops.RmsNormForward(context, a.Mid, postAttentionNorm.Value, a.MlpNorm, a.MidRstd, s.N, s.C, Eps);
        gateProj.Forward(context, a.MlpNorm, a.Gate, s.N, arena);
        upProj.Forward(context, a.MlpNorm, a.Up, s.N, arena);
        Ops.SwiGluForward(context, a.Gate, a.Up, a.SwiGlu, s.N * s.Mlp);
    }

    /// <summary>
    /// On entry g.Residual holds d loss / d output; on return d loss / d input. Parameter gradients accumulate.
    /// </summary>
    public void Backward(ActivationArena<T> arena, LayerActivations<DeviceBuffer<T>, DeviceBuffer<float>> a,
        BackwardScratch<DeviceBuffer<T>, DeviceBuffer<float>> g)
    {
        BatchShape s = arena.Shape;
        DeviceBuffer<T> ones = arena.Layout.Ones;
        var mlp = g.Mlp;
        downProj.Backward(context, g.Residual, a.SwiGlu, mlp.SwiGlu, s.N, ones);
        Ops.SwiGluBackward(context, mlp.SwiGlu, a.Gate, a.Up, mlp.Gate, mlp.Up, s.N * s.Mlp);
        gateProj.Backward(context, mlp.Gate, a.MlpNorm, g.NormInput, s.N, ones);
        upProj.Backward(context, mlp.Up, a.MlpNorm, g.NormInput, s.N, ones, accumulateDx: true);
        Ops.RmsNormBackward(context, g.NormInput, a.Mid, postAttentionNorm.Value, a.MidRstd, g.NormOutput,
            postAttentionNorm.Grad, s.N, s.C);
        Residual.Add(context, g.Residual, g.NormOutput, s.N * s.C, ones);

        var att = g.Attention;
        oProj.Backward(context, g.Residual, a.Attention, att.Output, s.N, ones);
        AttentionBackward(arena, a, att);
        RotateTokens(arena, att.Q, s.H, forward: false);
        RotateTokens(arena, att.K, s.Kvh, forward: false);
        qProj.Backward(context, att.Q, a.AttentionNorm, g.NormInput, s.N, ones);
        kProj.Backward(context, att.K, a.AttentionNorm, g.NormInput, s.N, ones, accumulateDx: true);
        vProj.Backward(context, att.V, a.AttentionNorm, g.NormInput, s.N, ones, accumulateDx: true);
        Ops.RmsNormBackward(context, g.NormInput, a.Input, inputNorm.Value, a.InputRstd, g.NormOutput,
            inputNorm.Grad, s.N, s.C);
        Residual.Add(context, g.Residual, g.NormOutput, s.N * s.C, ones);
    }

    /// <summary>
    /// The layer computed only where the loss can see it: at each sequence's scoring row (its last valid token),
    /// for the LAST layer, whose other rows nothing reads. Exact, not an approximation: every op but attention is
    /// row-wise, and that row's attention reads k and v of all the sequence's tokens, so input_layernorm, k_proj,
    /// v_proj and RoPE(k) still run over all N rows, while q_proj, RoPE(q), o_proj, post_attention_layernorm, the
    /// MLP and the residual adds run over B rows. The attention op takes as many queries as keys, so the B query
    /// rows are scattered into a zeroed q [B, T, H, D] (wpm_rows_scatter_add at the arena's scoring rows), the fused
    /// op runs as usual, and the scoring rows of its output are gathered again (wpm_rows_gather); the other rows' outputs are
    /// computed and dropped, which costs O(T^2 H D) per sequence, small next to the saved projections and MLP
    /// (their gradient is exactly zero in the backward, see <see cref="BackwardScoringRows"/>).
    /// Writes the scoring rows of the layer's output into <paramref name="output"/> [B, C].
    /// </summary>
    public void ForwardScoringRows(ActivationArena<T> arena, LayerActivations<DeviceBuffer<T>, DeviceBuffer<float>> a,
        DeviceBuffer<T> output)
    {
        BatchShape s = arena.Shape;
        var r = arena.Layout.ScoringRows ?? throw new InvalidOperationException("the arena has no scoring rows");
        Ops.RmsNormForward(context, a.Input, inputNorm.Value, a.AttentionNorm, a.InputRstd, s.N, s.C, Eps);
        kProj.Forward(context, a.AttentionNorm, a.K, s.N, arena);
        vProj.Forward(context, a.AttentionNorm, a.V, s.N, arena);
        RotateTokens(arena, a.K, s.Kvh, forward: true);
        ScoringRows.Gather(context, arena, a.AttentionNorm, r.AttentionNorm, s.C);
        qProj.Forward(context, r.AttentionNorm, r.Q, s.B, arena);
        Ops.RopeForward(context, r.Q, arena.ScoringPositions, s.B, 1, s.H, s.D, Theta);
        ScoringRows.ScatterIntoZeros(context, arena, r.Q, a.Q, s.QWidth);
        AttentionForward(arena, a);
        ScoringRows.Gather(context, arena, a.Attention, r.Attention, s.QWidth);
        ScoringRows.Gather(context, arena, a.Input, r.Mid, s.C);
        oProj.Forward(context, r.Attention, r.Mid, s.B, arena, accumulate: true);

        Ops.RmsNormForward(context, r.Mid, postAttentionNorm.Value, r.MlpNorm, r.MidRstd, s.B, s.C, Eps);
        gateProj.Forward(context, r.MlpNorm, r.Gate, s.B, arena);
        upProj.Forward(context, r.MlpNorm, r.Up, s.B, arena);
        Ops.SwiGluForward(context, r.Gate, r.Up, r.SwiGlu, s.B * s.Mlp);
        output.CopyFrom(r.Mid);
        downProj.Forward(context, r.SwiGlu, output, s.B, arena, accumulate: true);
    }

    /// <summary>
    /// The backward of <see cref="ForwardScoringRows"/>. On entry <paramref name="dOutput"/> [B, C] holds d loss / d
    /// the scoring rows of the output (it is updated in place into d loss / d h there); on return g.Residual holds
    /// d loss / d input at all N rows. The attention backward gets d out scattered into zeros: a query row with
    /// d out = 0 has d scores = P (d out v - d out . out) = 0, so it adds exactly nothing to dk and dv, and its dq is
    /// 0, which is why q_proj's backward needs only the scoring rows of dq.
    /// </summary>
    public void BackwardScoringRows(ActivationArena<T> arena, LayerActivations<DeviceBuffer<T>, DeviceBuffer<float>> a,
        DeviceBuffer<T> dOutput, BackwardScratch<DeviceBuffer<T>, DeviceBuffer<float>> g)
    {
        BatchShape s = arena.Shape;
        DeviceBuffer<T> ones = arena.Layout.Ones;
        var r = arena.Layout.ScoringRows ?? throw new InvalidOperationException("the arena has no scoring rows");
        var rg = r.Grads ?? throw new InvalidOperationException("the arena was planned for a forward only");
        downProj.Backward(context, dOutput, r.SwiGlu, rg.SwiGlu, s.B, ones);
        Ops.SwiGluBackward(context, rg.SwiGlu, r.Gate, r.Up, rg.Gate, rg.Up, s.B * s.Mlp);
        gateProj.Backward(context, rg.Gate, r.MlpNorm, rg.NormInput, s.B, ones);
        upProj.Backward(context, rg.Up, r.MlpNorm, rg.NormInput, s.B, ones, accumulateDx: true);
        Ops.RmsNormBackward(context, rg.NormInput, r.Mid, postAttentionNorm.Value, r.MidRstd, rg.NormOutput,
            postAttentionNorm.Grad, s.B, s.C);
        Residual.Add(context, dOutput, rg.NormOutput, s.B * s.C, ones);

        var att = g.Attention;
        oProj.Backward(context, dOutput, r.Attention, rg.Attention, s.B, ones);
        ScoringRows.ScatterIntoZeros(context, arena, rg.Attention, att.Output, s.QWidth);
        AttentionBackward(arena, a, att);
        ScoringRows.Gather(context, arena, att.Q, rg.Q, s.QWidth);
        Ops.RopeBackward(context, rg.Q, arena.ScoringPositions, s.B, 1, s.H, s.D, Theta);
        RotateTokens(arena, att.K, s.Kvh, forward: false);
        qProj.Backward(context, rg.Q, r.AttentionNorm, rg.NormInput, s.B, ones);
        ScoringRows.ScatterIntoZeros(context, arena, rg.NormInput, g.NormInput, s.C);
        kProj.Backward(context, att.K, a.AttentionNorm, g.NormInput, s.N, ones, accumulateDx: true);
        vProj.Backward(context, att.V, a.AttentionNorm, g.NormInput, s.N, ones, accumulateDx: true);
        Ops.RmsNormBackward(context, g.NormInput, a.Input, inputNorm.Value, a.InputRstd, g.NormOutput,
            inputNorm.Grad, s.N, s.C);
        ScoringRows.ScatterIntoZeros(context, arena, dOutput, g.Residual, s.C);
        Residual.Add(context, g.Residual, g.NormOutput, s.N * s.C, ones);
    }

    /// <summary>RoPE (or its backward) on x [N, heads, D] at every token row: positions 0.. of each padded row, or
    /// the packed stream's per-sequence positions.</summary>
    private void RotateTokens(ActivationArena<T> arena, DeviceBuffer<T> x, long heads, bool forward)
    {
        BatchShape s = arena.Shape;
        (long batch, long tokens) = s.Packed ? (1L, s.N) : (s.B, s.T);
        if (forward) Ops.RopeForward(context, x, arena.Positions, batch, tokens, heads, s.D, Theta);
        else Ops.RopeBackward(context, x, arena.Positions, batch, tokens, heads, s.D, Theta);
    }

    /// <summary>Causal attention within each sequence: per-sequence lengths padded, cu_seqlens packed.</summary>
    private void AttentionForward(ActivationArena<T> arena, LayerActivations<DeviceBuffer<T>, DeviceBuffer<float>> a)
    {
        AttentionShape shape = AttentionShape(arena.Shape);
        if (arena.Packing is PackedSequences packing)
            Ops.AttentionForward(context, a.Q, a.K, a.V, a.Attention, a.Lse, shape, packing);
        else
            Ops.AttentionForward(context, a.Q, a.K, a.V, a.Attention, a.Lse, shape, arena.Lengths);
    }

    /// <summary>The backward of <see cref="AttentionForward"/>, from att.Output (d out) into att.Q, att.K, att.V.</summary>
    private void AttentionBackward(ActivationArena<T> arena, LayerActivations<DeviceBuffer<T>, DeviceBuffer<float>> a,
        BackwardScratch<DeviceBuffer<T>, DeviceBuffer<float>>.AttentionGrads att)
    {
        AttentionShape shape = AttentionShape(arena.Shape);
        if (arena.Packing is PackedSequences packing)
            Ops.AttentionBackward(context, a.Q, a.K, a.V, a.Attention, a.Lse, att.Output, att.Q, att.K, att.V, shape,
                packing);
        else
            Ops.AttentionBackward(context, a.Q, a.K, a.V, a.Attention, a.Lse, att.Output, att.Q, att.K, att.V, shape,
                arena.Lengths);
    }

    /// <summary>Packed, the filler sequences of a recorded batch are sequences of the attention too.</summary>
    private static AttentionShape AttentionShape(BatchShape s) => new(s.AttendedSequences, s.T, s.H, s.Kvh, s.D);
}

/// <summary>The parameters of a decoder layer, whatever its storage type.</summary>
internal static class DecoderLayer
{
    /// <summary>The tensors of layer <paramref name="index"/>, in Hugging Face's order and names.</summary>
    public static IEnumerable<ParameterSpec> Specs(ModelConfig c, int index)
    {
        string p = Prefix(index);
        long d = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        long i = c.IntermediateSize;
        yield return new(p + "input_layernorm.weight", ParameterKind.NormWeight, d);
        yield return new(p + "self_attn.q_proj.weight", ParameterKind.Matrix, q, d);
        if (c.AttentionBias) yield return new(p + "self_attn.q_proj.bias", ParameterKind.Bias, q);
        yield return new(p + "self_attn.k_proj.weight", ParameterKind.Matrix, kv, d);
        if (c.AttentionBias) yield return new(p + "self_attn.k_proj.bias", ParameterKind.Bias, kv);
        yield return new(p + "self_attn.v_proj.weight", ParameterKind.Matrix, kv, d);
        if (c.AttentionBias) yield return new(p + "self_attn.v_proj.bias", ParameterKind.Bias, kv);
        yield return new(p + "self_attn.o_proj.weight", ParameterKind.Matrix, d, q);
        yield return new(p + "post_attention_layernorm.weight", ParameterKind.NormWeight, d);
        yield return new(p + "mlp.gate_proj.weight", ParameterKind.Matrix, i, d);
        yield return new(p + "mlp.up_proj.weight", ParameterKind.Matrix, i, d);
        yield return new(p + "mlp.down_proj.weight", ParameterKind.Matrix, d, i);
    }

    public static string Prefix(int index) => $"model.layers.{index}.";
}
