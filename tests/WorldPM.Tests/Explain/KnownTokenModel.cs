using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;

namespace WorldPM.Tests.Explain;

/// <summary>
/// A one-layer model over the byte tokenizer whose reward depends on one known token, set by hand through the
/// parameters: the embedding of <see cref="Token"/> is 2 e0, every other one a multiple of e1 between 0.1 and 0.6 by
/// id; q and k are zero, so attention averages the values of all tokens so far; v and o copy the normalized
/// dimension 0, times 20, into the residual's dimension 0; the MLP is zero; the head is GELU of the final-normalized dimension 0. RMSNorm eps is 1, so the
/// norms are not scale-free and a token's embedding scale matters. Only <see cref="Token"/> puts anything into
/// dimension 0; the other tokens change the reward only a little, through the final norm's mean square.
/// </summary>
internal static class KnownTokenModel
{
    /// <summary>'7'.</summary>
    public const char Token = '7';

    public static ModelConfig Config { get; } = new()
    {
        VocabSize = ByteTokenizer.Instance.VocabSize,
        HiddenSize = 8,
        NumHiddenLayers = 1,
        NumAttentionHeads = 2,
        NumKeyValueHeads = 1,
        IntermediateSize = 8,
        HeadHiddenSize = 4,
        MaxPositionEmbeddings = 128,
        RmsNormEps = 1.0,
    };

    public static RewardModel Create(WorldPMContext context)
    {
        var model = new RewardModel(context, Config, seed: 1);
        int c = Config.HiddenSize;
        foreach (Parameter p in model.Parameters)
        {
            var values = new float[p.Count];
            switch (p.Name)
            {
                case "model.embed_tokens.weight":
                    for (int id = 0; id < Config.VocabSize; id++)
                    {
                        if (id == Token) values[id * c] = 2f;
                        else values[id * c + 1] = 0.1f + 0.5f * (id % 7) / 6;
                    }
                    break;
                case "model.layers.0.input_layernorm.weight":
                case "model.layers.0.post_attention_layernorm.weight":
                case "model.norm.weight":
                    Array.Fill(values, 1f);
                    break;
                case "model.layers.0.self_attn.v_proj.weight":
                    values[0] = 1f;  // v[0] = n[0]
                    break;
                case "model.layers.0.self_attn.o_proj.weight":
                    values[0] = 20f;  // h[0] += 20 x head 0's output[0]
                    break;
                case "score.0.weight":
                    values[0] = 1f;  // hidden[0] = norm(h)[0]
                    break;
                case "score.2.weight":
                    values[0] = 1f;
                    break;
            }
            p.Value.CopyFrom(values);
        }
        model.SyncWorkingWeights();
        return model;
    }
}
