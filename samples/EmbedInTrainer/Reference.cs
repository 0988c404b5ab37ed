namespace EmbedInTrainer;

/// <summary>
/// Float64 references of the ops the sample checks, written from the formulas (worldpm.h states them), straight
/// loops with no shortcut, and sharing no code with the library: a wrong kernel cannot agree with them by
/// construction.
/// </summary>
internal static class Reference
{
    // ------------------------------------------------------------------ GELU

    private static readonly double TanhC = Math.Sqrt(2.0 / Math.PI);

    /// <summary>0.5 x (1 + tanh(c (x + 0.044715 x^3))), c = sqrt(2/pi).</summary>
    public static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(TanhC * (x + 0.044715 * x * x * x)));

    /// <summary>d/dx of <see cref="GeluTanh"/>.</summary>
    public static double GeluTanhGrad(double x)
    {
        double t = Math.Tanh(TanhC * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * TanhC * (1 + 3 * 0.044715 * x * x);
    }

    /// <summary>0.5 x (1 + erf(x / sqrt 2)).</summary>
    public static double GeluExact(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>Phi(x) + x phi(x), the derivative of <see cref="GeluExact"/>.</summary>
    public static double GeluExactGrad(double x) =>
        0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    /// <summary>erf by its Maclaurin series (.NET has none): for |z| &lt;= 3, i.e. |x| &lt;= 4.2 in GELU, the terms
    /// cancel to about 1e-12, far below float32's precision; the sample keeps its inputs in that range.</summary>
    public static double Erf(double z)
    {
        if (Math.Abs(z) > 3) throw new ArgumentOutOfRangeException(nameof(z), z, "the series is only used for |z| <= 3");
        double sum = 0, term = z;  // term = (-1)^n z^(2n+1) / n!
        for (int n = 0; n < 200; ++n)
        {
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            term *= -z * z / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    // ------------------------------------------------------------------ causal attention

    /// <summary>Dimensions and layouts: q, out [B, T, H, D]; k, v [B, T, KVH, D]; lse [B, H, T]; query head h reads
    /// key/value head h / (H / KVH). Right padding: sequence b has valid positions 0 .. lengths[b]-1.</summary>
    public sealed record AttentionShape(int B, int T, int H, int Kvh, int D)
    {
        public int Q(int b, int t, int h) => ((b * T + t) * H + h) * D;
        public int Kv(int b, int t, int g) => ((b * T + t) * Kvh + g) * D;
        public int Lse(int b, int h, int t) => (b * H + h) * T + t;
        public int Group(int h) => h / (H / Kvh);
    }

    /// <summary>The probabilities of query row i over keys 0..i of sequence b, head h (a fresh softmax), and the
    /// logsumexp of the scaled scores.</summary>
    private static (double[] P, double Lse) Softmax(AttentionShape s, float[] q, float[] k, int b, int h, int i, double scale)
    {
        var scores = new double[i + 1];
        double max = double.NegativeInfinity;
        for (int j = 0; j <= i; ++j)
        {
            double dot = 0;
            for (int d = 0; d < s.D; ++d) dot += (double)q[s.Q(b, i, h) + d] * k[s.Kv(b, j, s.Group(h)) + d];
            scores[j] = scale * dot;
            max = Math.Max(max, scores[j]);
        }
        double sum = 0;
        for (int j = 0; j <= i; ++j) sum += Math.Exp(scores[j] - max);
        var p = new double[i + 1];
        for (int j = 0; j <= i; ++j) p[j] = Math.Exp(scores[j] - max) / sum;
        return (p, max + Math.Log(sum));
    }

    /// <summary>out and lse; padding rows are 0 in both (what the library promises to write there).</summary>
    public static (double[] Out, double[] Lse) AttentionForward(AttentionShape s, float[] q, float[] k, float[] v,
        int[] lengths, double scale)
    {
        var output = new double[s.B * s.T * s.H * s.D];
        var lse = new double[s.B * s.H * s.T];
        for (int b = 0; b < s.B; ++b)
        for (int h = 0; h < s.H; ++h)
        for (int i = 0; i < lengths[b]; ++i)
        {
            (double[] p, double l) = Softmax(s, q, k, b, h, i, scale);
            lse[s.Lse(b, h, i)] = l;
            for (int j = 0; j <= i; ++j)
            for (int d = 0; d < s.D; ++d)
                output[s.Q(b, i, h) + d] += p[j] * v[s.Kv(b, j, s.Group(h)) + d];
        }
        return (output, lse);
    }

    /// <summary>dq, dk, dv of sum(out * dout), from the probabilities recomputed here (not from the library's lse):
    /// dv_j += p_j dout_i; ds_j = p_j (dout_i . v_j - dout_i . out_i); dq_i += scale ds_j k_j; dk_j += scale ds_j q_i.
    /// Key/value heads sum over the query heads that share them; padding rows are 0.</summary>
    public static (double[] Dq, double[] Dk, double[] Dv) AttentionBackward(AttentionShape s, float[] q, float[] k,
        float[] v, float[] dout, int[] lengths, double scale)
    {
        var dq = new double[q.Length];
        var dk = new double[k.Length];
        var dv = new double[v.Length];
        for (int b = 0; b < s.B; ++b)
        for (int h = 0; h < s.H; ++h)
        for (int i = 0; i < lengths[b]; ++i)
        {
            (double[] p, _) = Softmax(s, q, k, b, h, i, scale);
            int g = s.Group(h);
            var dp = new double[i + 1];
            double rowDot = 0;                              // sum_j p_j dp_j = dout_i . out_i
            for (int j = 0; j <= i; ++j)
            {
                for (int d = 0; d < s.D; ++d) dp[j] += (double)dout[s.Q(b, i, h) + d] * v[s.Kv(b, j, g) + d];
                rowDot += p[j] * dp[j];
            }
            for (int j = 0; j <= i; ++j)
            {
                double ds = p[j] * (dp[j] - rowDot);
                for (int d = 0; d < s.D; ++d)
                {
                    dv[s.Kv(b, j, g) + d] += p[j] * dout[s.Q(b, i, h) + d];
                    dq[s.Q(b, i, h) + d] += scale * ds * k[s.Kv(b, j, g) + d];
                    dk[s.Kv(b, j, g) + d] += scale * ds * q[s.Q(b, i, h) + d];
                }
            }
        }
        return (dq, dk, dv);
    }

    // ------------------------------------------------------------------ Bradley-Terry loss

    /// <summary>log(1 + e^z) without overflow.</summary>
    public static double Softplus(double z) => Math.Max(z, 0) + Math.Log(1 + Math.Exp(-Math.Abs(z)));

    public static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>mean_i softplus(-(chosen_i - rejected_i - margin)) = mean -log sigmoid(delta_i).</summary>
    public static double BradleyTerryLoss(ReadOnlySpan<float> chosen, ReadOnlySpan<float> rejected, double margin)
    {
        double sum = 0;
        for (int i = 0; i < chosen.Length; ++i) sum += Softplus(-((double)chosen[i] - rejected[i] - margin));
        return sum / chosen.Length;
    }

    /// <summary>d loss / d chosen_i = (sigmoid(delta_i) - 1) / P; d loss / d rejected_i is its negative.</summary>
    public static double[] BradleyTerryGradChosen(ReadOnlySpan<float> chosen, ReadOnlySpan<float> rejected, double margin)
    {
        var grad = new double[chosen.Length];
        for (int i = 0; i < chosen.Length; ++i)
            grad[i] = (Sigmoid((double)chosen[i] - rejected[i] - margin) - 1) / chosen.Length;
        return grad;
    }
}
