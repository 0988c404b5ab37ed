using WorldPM.Model;

namespace WorldPM.Workloads;

/// <summary>
/// The Qwen2-style reward model of W4 and W5: vocab 8192, 4 layers, d 512, 8 query heads over 2 KV heads (head dim
/// 64), SwiGLU 1408, RMSNorm eps 1e-6, RoPE θ 1e6, preference head 512 → 256 → 1 with GELU tanh, fp32; and the
/// model-FLOP count both workloads report.
/// </summary>
public static class ReferenceModel
{
    public static ModelConfig Config { get; } = new()
    {
        VocabSize = 8192,
        HiddenSize = 512,
        NumHiddenLayers = 4,
        NumAttentionHeads = 8,
        NumKeyValueHeads = 2,
        IntermediateSize = 1408,
        RmsNormEps = 1e-6,
        RopeTheta = 1e6,
        MaxPositionEmbeddings = 256,
        HeadHiddenSize = 256,
        HeadActivation = HeadActivation.GeluTanh,
    };

    /// <summary>Every parameter but the token embedding (a gather, no FLOPs); the preference head's ~132 K of the
    /// ~11.7 M are included, as the convention counts them, though the head runs once per sequence, not per token.</summary>
    public static long NonEmbeddingParameters(RewardModel model) =>
        model.Parameters.Where(p => p.Name != "model.embed_tokens.weight").Sum(p => p.Count);

    /// <summary>
    /// Model FLOPs in the usual convention: 2 per parameter per token forward (6 forward + backward) plus causal
    /// attention, 4·B·H·T²·D/2 per layer forward (3× that forward + backward). The model does less than this count
    /// (the last layer runs only at each sequence's scoring token), so the rate is in "model FLOPs", the number that
    /// compares across implementations.
    /// </summary>
    /// <param name="passes">1 forward only, 3 forward + backward.</param>
    public static double ModelFlops(RewardModel model, long sequences, long tokens, int passes)
    {
        ModelConfig c = model.Config;
        double dense = 2.0 * NonEmbeddingParameters(model) * sequences * tokens;
        double attention = c.NumHiddenLayers * AttentionWorkload.CausalForwardFlops(sequences, c.NumAttentionHeads, tokens, c.HeadDim);
        return passes * (dense + attention);
    }

    /// <summary>Right-padded rows of full length with token ids uniform in the vocabulary.</summary>
    public static (int[] Tokens, int[] Lengths) RandomBatch(int rows, int tokens, int seed)
    {
        var random = new Random(seed);
        var ids = new int[rows * tokens];
        for (int i = 0; i < ids.Length; ++i) ids[i] = random.Next(Config.VocabSize);
        var lengths = new int[rows];
        Array.Fill(lengths, tokens);
        return (ids, lengths);
    }
}
