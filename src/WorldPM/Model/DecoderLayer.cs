using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// One Qwen2 decoder layer, forward and backward written out:
/// <code>
///   n = input_layernorm(x)
///   q, k, v = n Wq^T + bq, n Wk^T + bk, n Wv^T + bv;  RoPE(q), RoPE(k)   (positions 0.., right padding)
///   h = x + attention(q, k, v) Wo^T                                      (causal, GQA, per-sequence lengths)
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
        qProj = new Linear<T>(store[p + "self_attn.q_proj.weight"], store[p + "self_attn.q_proj.bias"]);
        kProj = new Linear<T>(store[p + "self_attn.k_proj.weight"], store[p + "self_attn.k_proj.bias"]);
        vProj = new Linear<T>(store[p + "self_attn.v_proj.weight"], store[p + "self_attn.v_proj.bias"]);
        oProj = new Linear<T>(store[p + "self_attn.o_proj.weight"]);
        gateProj = new Linear<T>(store[p + "mlp.gate_proj.weight"]);
        upProj = new Linear<T>(store[p + "mlp.up_proj.weight"]);
        downProj = new Linear<T>(store[p + "mlp.down_proj.weight"]);
    }

    private float Eps => (float)config.RmsNormEps;

    private float Theta => (float)config.RopeTheta;

    /// <summary>Runs the layer on a.Input, saving into <paramref name="a"/>, and writes the layer's output.</summary>
    public void Forward(ActivationArena<T> arena, LayerActivations<DeviceBuffer<T>, DeviceBuffer<float>> a,
        DeviceBuffer<T> output)
    {
        BatchShape s = arena.Shape;
        DeviceBuffer<T> ones = arena.Layout.Ones;
        Ops.RmsNormForward(context, a.Input, inputNorm.Value, a.AttentionNorm, a.InputRstd, s.N, s.C, Eps);
        qProj.Forward(context, a.AttentionNorm, a.Q, s.N, ones);
        kProj.Forward(context, a.AttentionNorm, a.K, s.N, ones);
        vProj.Forward(context, a.AttentionNorm, a.V, s.N, ones);
        Ops.RopeForward(context, a.Q, null, s.B, s.T, s.H, s.D, Theta);
        Ops.RopeForward(context, a.K, null, s.B, s.T, s.Kvh, s.D, Theta);
        Ops.AttentionForward(context, a.Q, a.K, a.V, a.Attention, a.Lse, AttentionShape(s), arena.Lengths);
        a.Mid.CopyFrom(a.Input);
        oProj.Forward(context, a.Attention, a.Mid, s.N, ones, accumulate: true);

        Ops.RmsNormForward(context, a.Mid, postAttentionNorm.Value, a.MlpNorm, a.MidRstd, s.N, s.C, Eps);
        gateProj.Forward(context, a.MlpNorm, a.Gate, s.N, ones);
        upProj.Forward(context, a.MlpNorm, a.Up, s.N, ones);
        Ops.SwiGluForward(context, a.Gate, a.Up, a.SwiGlu, s.N * s.Mlp);
        output.CopyFrom(a.Mid);
        downProj.Forward(context, a.SwiGlu, output, s.N, ones, accumulate: true);
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
        Ops.AttentionBackward(context, a.Q, a.K, a.V, a.Attention, a.Lse, att.Output, att.Q, att.K, att.V,
            AttentionShape(s), arena.Lengths);
        Ops.RopeBackward(context, att.Q, null, s.B, s.T, s.H, s.D, Theta);
        Ops.RopeBackward(context, att.K, null, s.B, s.T, s.Kvh, s.D, Theta);
        qProj.Backward(context, att.Q, a.AttentionNorm, g.NormInput, s.N, ones);
        kProj.Backward(context, att.K, a.AttentionNorm, g.NormInput, s.N, ones, accumulateDx: true);
        vProj.Backward(context, att.V, a.AttentionNorm, g.NormInput, s.N, ones, accumulateDx: true);
        Ops.RmsNormBackward(context, g.NormInput, a.Input, inputNorm.Value, a.InputRstd, g.NormOutput,
            inputNorm.Grad, s.N, s.C);
        Residual.Add(context, g.Residual, g.NormOutput, s.N * s.C, ones);
    }

    private static AttentionShape AttentionShape(BatchShape s) => new(s.B, s.T, s.H, s.Kvh, s.D);
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
        yield return new(p + "self_attn.q_proj.bias", ParameterKind.Bias, q);
        yield return new(p + "self_attn.k_proj.weight", ParameterKind.Matrix, kv, d);
        yield return new(p + "self_attn.k_proj.bias", ParameterKind.Bias, kv);
        yield return new(p + "self_attn.v_proj.weight", ParameterKind.Matrix, kv, d);
        yield return new(p + "self_attn.v_proj.bias", ParameterKind.Bias, kv);
        yield return new(p + "self_attn.o_proj.weight", ParameterKind.Matrix, d, q);
        yield return new(p + "post_attention_layernorm.weight", ParameterKind.NormWeight, d);
        yield return new(p + "mlp.gate_proj.weight", ParameterKind.Matrix, i, d);
        yield return new(p + "mlp.up_proj.weight", ParameterKind.Matrix, i, d);
        yield return new(p + "mlp.down_proj.weight", ParameterKind.Matrix, d, i);
    }

    public static string Prefix(int index) => $"model.layers.{index}.";
}
