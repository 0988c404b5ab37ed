using WorldPM.Native;

namespace EmbedInTrainer;

/// <summary>
/// Runs single ops the way a trainer that owns its own tensors calls them, and compares each output with
/// <see cref="Reference"/>. Tolerances are float32-sized: a wrong formula, layout or head grouping is off by far more.
/// </summary>
internal sealed class OpChecks(WorldPMContext context, Checks checks, int seed)
{
    // Written into every output buffer before the op: an element the op failed to write stays far off its reference.
    private const double Unwritten = 7777;

    private readonly Random random = new(seed);

    /// <summary>A buffer over the trainer's input values. On the cpu backend the trainer's own array is wrapped
    /// (no copy: the library reads that memory, pinned while the buffer lives); on a device backend host memory
    /// cannot be wrapped, so the values are copied into a library allocation instead.</summary>
    private DeviceBuffer<T> Input<T>(T[] values) where T : unmanaged =>
        context.Backend == Backend.Cpu ? context.Wrap(values) : context.Upload<T>(values);

    /// <summary>A library-allocated output buffer, pre-filled with <see cref="Unwritten"/>.</summary>
    private DeviceBuffer<float> Output(long count)
    {
        DeviceBuffer<float> buffer = context.Allocate<float>(count);
        buffer.Fill(Unwritten);
        return buffer;
    }

    private float[] Uniform(int count, double low, double high)
    {
        var values = new float[count];
        for (int i = 0; i < count; ++i) values[i] = (float)(low + (high - low) * random.NextDouble());
        return values;
    }

    /// <summary>The library's results, after the queued work is done (a GPU runs ops asynchronously).</summary>
    private float[] Read(DeviceBuffer<float> buffer)
    {
        context.Synchronize();
        return buffer.ToArray();
    }

    public void Gelu(GeluKind kind)
    {
        const int n = 1000;
        float[] x = Uniform(n, -4, 4), dout = Uniform(n, -1, 1);
        using DeviceBuffer<float> xBuffer = Input(x), doutBuffer = Input(dout);
        using DeviceBuffer<float> output = Output(n), dx = Output(n);

        Ops.GeluForward(context, xBuffer, output, kind);
        Ops.GeluBackward(context, doutBuffer, xBuffer, dx, kind);

        Func<double, double> f = kind == GeluKind.Tanh ? Reference.GeluTanh : Reference.GeluExact;
        Func<double, double> df = kind == GeluKind.Tanh ? Reference.GeluTanhGrad : Reference.GeluExactGrad;
        string name = kind == GeluKind.Tanh ? "gelu-tanh" : "gelu-exact";
        // The two GELU forms differ by up to ~5e-4, so these tolerances also tell them apart.
        checks.Close($"{name}-forward", Read(output), x.Select(v => f(v)).ToArray(), atol: 2e-6, rtol: 2e-5);
        checks.Close($"{name}-backward", Read(dx), x.Select((v, i) => dout[i] * df(v)).ToArray(), atol: 2e-6, rtol: 2e-5);
    }

    public void CausalAttention()
    {
        // Grouped-query (4 query heads over 2 key/value heads), head dim 64 (what the GPU kernels take too), and two
        // sequences of different lengths so that the padding rows and the per-sequence causal mask are exercised.
        var s = new Reference.AttentionShape(B: 2, T: 7, H: 4, Kvh: 2, D: 64);
        int[] lengths = [7, 4];
        double scale = 1 / Math.Sqrt(s.D);
        float[] q = Uniform(s.B * s.T * s.H * s.D, -1, 1);
        float[] k = Uniform(s.B * s.T * s.Kvh * s.D, -1, 1);
        float[] v = Uniform(s.B * s.T * s.Kvh * s.D, -1, 1);
        float[] dout = Uniform(q.Length, -1, 1);
        var shape = new AttentionShape(s.B, s.T, s.H, s.Kvh, s.D);

        using DeviceBuffer<float> qBuffer = Input(q), kBuffer = Input(k), vBuffer = Input(v), doutBuffer = Input(dout);
        using DeviceBuffer<int> lengthsBuffer = Input(lengths);
        using DeviceBuffer<float> output = Output(q.Length), lse = Output(s.B * s.H * s.T);
        using DeviceBuffer<float> dq = Output(q.Length), dk = Output(k.Length), dv = Output(v.Length);

        Ops.AttentionForward(context, qBuffer, kBuffer, vBuffer, output, lse, shape, lengthsBuffer, Padding.Right, (float)scale);
        Ops.AttentionBackward(context, qBuffer, kBuffer, vBuffer, output, lse, doutBuffer, dq, dk, dv, shape,
            lengthsBuffer, Padding.Right, (float)scale);

        (double[] refOut, double[] refLse) = Reference.AttentionForward(s, q, k, v, lengths, scale);
        (double[] refDq, double[] refDk, double[] refDv) = Reference.AttentionBackward(s, q, k, v, dout, lengths, scale);
        checks.Close("attention-forward-out", Read(output), refOut, atol: 1e-5, rtol: 1e-4);
        checks.Close("attention-forward-lse", Read(lse), refLse, atol: 1e-5, rtol: 1e-5);
        checks.Close("attention-backward-dq", Read(dq), refDq, atol: 1e-5, rtol: 1e-4);
        checks.Close("attention-backward-dk", Read(dk), refDk, atol: 1e-5, rtol: 1e-4);
        checks.Close("attention-backward-dv", Read(dv), refDv, atol: 1e-5, rtol: 1e-4);
    }

    public void LastTokenPool()
    {
        const int b = 3, t = 5, c = 16;
        int[] lengths = [5, 1, 3];
        float[] hidden = Uniform(b * t * c, -2, 2), dout = Uniform(b * c, -1, 1);
        using DeviceBuffer<float> hiddenBuffer = Input(hidden), doutBuffer = Input(dout);
        using DeviceBuffer<int> lengthsBuffer = Input(lengths);
        using DeviceBuffer<float> output = Output(b * c), dhidden = Output(b * t * c);

        Ops.LastTokenPoolForward(context, hiddenBuffer, lengthsBuffer, output, b, t, c);
        Ops.LastTokenPoolBackward(context, doutBuffer, lengthsBuffer, dhidden, b, t, c);

        // Pooling only moves values: they must come back bit for bit.
        var refOut = new double[b * c];
        var refDhidden = new double[b * t * c];
        for (int row = 0; row < b; ++row)
        for (int ch = 0; ch < c; ++ch)
        {
            int last = lengths[row] - 1;
            refOut[row * c + ch] = hidden[(row * t + last) * c + ch];
            refDhidden[(row * t + last) * c + ch] = dout[row * c + ch];
        }
        checks.Close("last-token-pool-forward", Read(output), refOut, atol: 0, rtol: 0);
        checks.Close("last-token-pool-backward", Read(dhidden), refDhidden, atol: 0, rtol: 0);
    }

    public void BradleyTerryLoss()
    {
        const int pairs = 16;
        const float margin = 0.5f;
        float[] chosen = Uniform(pairs, -3, 3), rejected = Uniform(pairs, -3, 3);
        using DeviceBuffer<float> chosenBuffer = Input(chosen), rejectedBuffer = Input(rejected);
        using DeviceBuffer<float> loss = Output(1), dchosen = Output(pairs), drejected = Output(pairs);

        Ops.BradleyTerryLossForward(context, chosenBuffer, rejectedBuffer, loss, margin);
        Ops.BradleyTerryLossBackward(context, chosenBuffer, rejectedBuffer, dchosen, drejected, dloss: 1f, margin);

        double[] gradChosen = Reference.BradleyTerryGradChosen(chosen, rejected, margin);
        checks.Close("bradley-terry-forward", Read(loss), [Reference.BradleyTerryLoss(chosen, rejected, margin)],
            atol: 1e-6, rtol: 1e-5);
        checks.Close("bradley-terry-backward-chosen", Read(dchosen), gradChosen, atol: 1e-7, rtol: 1e-5);
        checks.Close("bradley-terry-backward-rejected", Read(drejected), gradChosen.Select(g => -g).ToArray(),
            atol: 1e-7, rtol: 1e-5);
    }
}
