using WorldPM.Model;

namespace WorldPM.Tests.Model;

/// <summary>
/// The reward model written from the math in float64 with naive loops, independent of the library: each
/// sequence is processed alone, only its valid tokens, positions counted from 0. Parameters are looked up by
/// their Hugging Face names; linear weights are [out, in].
/// </summary>
internal sealed class ReferenceRewardModel(ModelConfig config, IReadOnlyDictionary<string, double[]> parameters)
{
    private int D => config.HiddenSize;

    private int HeadDim => config.HiddenSize / config.NumAttentionHeads;

    /// <summary>The reward of one sequence given by its valid tokens.</summary>
    public double Reward(ReadOnlySpan<int> tokens)
    {
        int t = tokens.Length;
        var x = new double[t][];
        double[] table = P("model.embed_tokens.weight");
        for (int i = 0; i < t; i++) x[i] = table.AsSpan(tokens[i] * D, D).ToArray();
        for (int l = 0; l < config.NumHiddenLayers; l++) Layer(x, $"model.layers.{l}.");
        double[] last = RmsNorm(x[t - 1], P("model.norm.weight"));
        double[] hidden = Linear(last, "score.0");
        for (int i = 0; i < hidden.Length; i++) hidden[i] = Activation(hidden[i]);
        return Linear(hidden, "score.2")[0];
    }

    /// <summary>sum_i w_i softplus(r_rejected_i - r_chosen_i) / sum_i w_i over a [2 pairs, seqLen] batch.</summary>
    public double Loss(int[] tokens, int[] lengths, int pairs, int seqLen, float[]? weights = null)
    {
        double total = 0, weightSum = 0;
        for (int i = 0; i < pairs; i++)
        {
            double chosen = Reward(tokens.AsSpan(i * seqLen, lengths[i]));
            double rejected = Reward(tokens.AsSpan((pairs + i) * seqLen, lengths[pairs + i]));
            double w = weights is null ? 1 : weights[i];
            total += w * Softplus(rejected - chosen);
            weightSum += w;
        }
        return total / weightSum;
    }

    private void Layer(double[][] x, string prefix)
    {
        int t = x.Length, h = config.NumAttentionHeads, kvh = config.NumKeyValueHeads, hd = HeadDim;
        var q = new double[t][];
        var k = new double[t][];
        var v = new double[t][];
        for (int i = 0; i < t; i++)
        {
            double[] n = RmsNorm(x[i], P(prefix + "input_layernorm.weight"));
            q[i] = Rope(Linear(n, prefix + "self_attn.q_proj"), i, h);
            k[i] = Rope(Linear(n, prefix + "self_attn.k_proj"), i, kvh);
            v[i] = Linear(n, prefix + "self_attn.v_proj");
        }
        for (int i = 0; i < t; i++)
        {
            var attention = new double[h * hd];
            for (int head = 0; head < h; head++)
            {
                int g = head / (h / kvh);
                var scores = new double[i + 1];
                for (int j = 0; j <= i; j++)
                {
                    double dot = 0;
                    for (int c = 0; c < hd; c++) dot += q[i][head * hd + c] * k[j][g * hd + c];
                    scores[j] = dot / Math.Sqrt(hd);
                }
                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int j = 0; j <= i; j++)
                    for (int c = 0; c < hd; c++)
                        attention[head * hd + c] += Math.Exp(scores[j] - max) / sum * v[j][g * hd + c];
            }
            Add(x[i], Linear(attention, prefix + "self_attn.o_proj"));
            double[] m = RmsNorm(x[i], P(prefix + "post_attention_layernorm.weight"));
            double[] gate = Linear(m, prefix + "mlp.gate_proj"), up = Linear(m, prefix + "mlp.up_proj");
            for (int c = 0; c < gate.Length; c++) gate[c] = gate[c] / (1 + Math.Exp(-gate[c])) * up[c];
            Add(x[i], Linear(gate, prefix + "mlp.down_proj"));
        }
    }

    /// <summary>Qwen2's rotate-half RoPE on each head: pairs (i, i + D/2) turn by pos theta^(-2i/D).</summary>
    private double[] Rope(double[] x, int position, int heads)
    {
        int hd = HeadDim, half = hd / 2;
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = position * Math.Pow(config.RopeTheta, -2.0 * i / hd);
                double a = x[head * hd + i], b = x[head * hd + i + half];
                x[head * hd + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                x[head * hd + i + half] = b * Math.Cos(angle) + a * Math.Sin(angle);
            }
        }
        return x;
    }

    private double[] RmsNorm(double[] x, double[] weight)
    {
        double meanSquare = x.Sum(e => e * e) / x.Length;
        double r = 1 / Math.Sqrt(meanSquare + config.RmsNormEps);
        return [.. x.Select((e, i) => e * r * weight[i])];
    }

    /// <summary>y = W x (+ b) with W [out, in] named name.weight and b named name.bias when it exists.</summary>
    private double[] Linear(double[] x, string name)
    {
        double[] w = P(name + ".weight");
        int outputs = w.Length / x.Length;
        var y = parameters.TryGetValue(name + ".bias", out double[]? bias) ? (double[])bias.Clone() : new double[outputs];
        for (int o = 0; o < outputs; o++)
            for (int i = 0; i < x.Length; i++) y[o] += w[o * x.Length + i] * x[i];
        return y;
    }

    private double Activation(double x) => config.HeadActivation switch
    {
        HeadActivation.GeluTanh => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        HeadActivation.GeluExact => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        HeadActivation.Relu => Math.Max(x, 0),
        _ => throw new NotSupportedException(config.HeadActivation.ToString()),
    };

    /// <summary>erf by its Taylor series (about 1e-9 accurate up to |x| = 4) and sign(x) beyond, where erf is
    /// within 2e-8 of it.</summary>
    private static double Erf(double x)
    {
        if (Math.Abs(x) > 4) return Math.Sign(x);
        double term = x, sum = x;
        for (int n = 1; n < 200 && Math.Abs(term) > 1e-18; n++)
        {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    private static void Add(double[] y, double[] x)
    {
        for (int i = 0; i < y.Length; i++) y[i] += x[i];
    }

    private double[] P(string name) => parameters[name];
}
