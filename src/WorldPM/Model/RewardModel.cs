using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// A Qwen2 reward model in fp32 on one <see cref="WorldPMContext"/>: token embedding, L decoder layers, the
/// final RMSNorm on each sequence's scoring token (its last valid one; batches are right padded) and the
/// preference head, trained with the Bradley-Terry loss. Forward and backward are written out per layer
/// (<see cref="DecoderLayer"/>, <see cref="PreferenceHead"/>); activations live in one arena per batch shape
/// (<see cref="ActivationLayout{TTensor}"/>), built on first use of a shape and kept until another shape comes.
/// Not thread-safe: one call at a time.
/// </summary>
public sealed class RewardModel : IDisposable
{
    private readonly WorldPMContext context;
    private readonly ParameterStore store;
    private readonly Parameter embedding, finalNorm;
    private readonly DecoderLayer[] layers;
    private readonly PreferenceHead head;
    private ActivationArena? arena;
    private int[] staged = [];

    /// <summary>Creates the parameters and initializes them deterministically from <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">The config is inconsistent.</exception>
    /// <exception cref="NotSupportedException">The config asks for something the library cannot run yet.</exception>
    public RewardModel(WorldPMContext context, ModelConfig config, int seed)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        this.context = context;
        Config = config;
        store = new ParameterStore(context, Specs(config), seed);
        embedding = store["model.embed_tokens.weight"];
        finalNorm = store["model.norm.weight"];
        layers = [.. Enumerable.Range(0, config.NumHiddenLayers).Select(i => new DecoderLayer(context, config, store, i))];
        head = new PreferenceHead(context, config, store);
    }

    /// <summary>The model's shape.</summary>
    public ModelConfig Config { get; }

    /// <summary>Every trainable tensor, in Hugging Face order and names.</summary>
    public IReadOnlyList<Parameter> Parameters => store.Parameters;

    /// <summary>All parameter values in one buffer, <see cref="Parameters"/> back to back (each start aligned to 64
    /// elements, the gaps zero): for whole-model operations such as checksums or broadcasts.</summary>
    public DeviceBuffer<float> ParameterValues => store.Values;

    /// <summary>All gradients in one buffer, laid out like <see cref="ParameterValues"/>: for all-reduce, norms, scaling.</summary>
    public DeviceBuffer<float> ParameterGradients => store.Grads;

    /// <summary>The tensors of a model with this config, in order: embedding, layers, final norm, head.</summary>
    internal static IReadOnlyList<ParameterSpec> Specs(ModelConfig c) =>
    [
        new("model.embed_tokens.weight", ParameterKind.Matrix, c.VocabSize, c.HiddenSize),
        .. Enumerable.Range(0, c.NumHiddenLayers).SelectMany(i => DecoderLayer.Specs(c, i)),
        new("model.norm.weight", ParameterKind.NormWeight, c.HiddenSize),
        .. PreferenceHead.Specs(c),
    ];

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad() => store.Grads.Fill(0);

    /// <summary>
    /// Forward and backward of the Bradley-Terry loss on a batch of pairs, ADDING the gradient of
    /// lossScale * loss into every <see cref="Parameter.Grad"/> (call <see cref="ZeroGrad"/> between steps).
    /// </summary>
    /// <param name="tokens">[2 pairs, seqLen] row-major, right padded: rows 0..pairs-1 are the chosen responses,
    /// rows pairs..2 pairs-1 the rejected ones (pair i is rows i and pairs + i). Ids at padding positions are ignored.</param>
    /// <param name="lengths">The valid tokens of each row, in 1..seqLen.</param>
    /// <param name="pairs">P.</param>
    /// <param name="seqLen">T.</param>
    /// <param name="lossScale">Multiplies the gradient (fp16 loss scaling, or 1 / micro-batches); not the returned loss.</param>
    /// <param name="weights">Empty, or one weight per pair (finite, >= 0, positive sum) for a weighted mean.</param>
    public PairStepResult ForwardBackward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int pairs, int seqLen,
        float lossScale = 1f, ReadOnlySpan<float> weights = default)
    {
        if (pairs < 1) throw new ArgumentOutOfRangeException(nameof(pairs), pairs, "at least one pair is needed");
        if (!float.IsFinite(lossScale))
            throw new ArgumentOutOfRangeException(nameof(lossScale), lossScale, "the loss scale must be finite");
        TokenBatch.CheckWeights(weights, pairs);
        ActivationArena a = Prepare(tokens, lengths, checked(2 * pairs), seqLen);
        HeadActivations<DeviceBuffer<float>> h = a.Layout.Head;
        BackwardScratch<DeviceBuffer<float>> g = a.Layout.Backward;
        using DeviceBuffer<float> chosen = h.Rewards.View(0, pairs), rejected = h.Rewards.View(pairs, pairs);
        using DeviceBuffer<float> dChosen = g.Rewards.View(0, pairs), dRejected = g.Rewards.View(pairs, pairs);
        using DeviceBuffer<float>? w = weights.IsEmpty ? null : h.Weights.View(0, pairs);
        w?.CopyFrom(weights);

        Forward(a);
        Ops.BradleyTerryLossForward(context, chosen, rejected, h.Loss, weights: w, pairs: pairs);
        Ops.BradleyTerryLossBackward(context, chosen, rejected, dChosen, dRejected, lossScale, weights: w, pairs: pairs);
        Backward(a);

        float[] loss = new float[1], rewards = new float[2 * pairs];
        h.Loss.CopyTo(loss);
        h.Rewards.CopyTo(rewards);
        return new PairStepResult(loss[0], rewards[..pairs], rewards[pairs..]);
    }

    /// <summary>The reward of each of <paramref name="count"/> right-padded sequences [count, seqLen]; forward only,
    /// gradients untouched.</summary>
    public float[] Score(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int count, int seqLen)
    {
        ActivationArena a = Prepare(tokens, lengths, count, seqLen);
        Forward(a);
        float[] rewards = new float[count];
        a.Layout.Head.Rewards.CopyTo(rewards);
        return rewards;
    }

    private void Forward(ActivationArena a)
    {
        BatchShape s = a.Shape;
        var acts = a.Layout;
        Ops.EmbeddingForward(context, a.TokenIds, embedding.Value, acts.Layers[0].Input, s.N, Config.VocabSize, s.C);
        for (int l = 0; l < layers.Length; l++)
            layers[l].Forward(a, acts.Layers[l], l + 1 < layers.Length ? acts.Layers[l + 1].Input : acts.Head.Output);
        // model.norm is row-wise, so normalizing only the pooled rows is exact: norm(pool(x)) = pool(norm(x)).
        Ops.LastTokenPoolForward(context, acts.Head.Output, a.Lengths, acts.Head.Pooled, s.B, s.T, s.C);
        Ops.RmsNormForward(context, acts.Head.Pooled, finalNorm.Value, acts.Head.PooledNorm, acts.Head.PooledRstd, s.B,
            s.C, (float)Config.RmsNormEps);
        head.Forward(a, acts.Head);
    }

    /// <summary>From d loss / d reward (in the scratch) down to the embedding; parameter gradients accumulate.</summary>
    private void Backward(ActivationArena a)
    {
        BatchShape s = a.Shape;
        var acts = a.Layout;
        var g = acts.Backward;
        head.Backward(a, acts.Head, g);
        Ops.RmsNormBackward(context, g.PooledNorm, acts.Head.Pooled, finalNorm.Value, acts.Head.PooledRstd, g.Pooled,
            finalNorm.Grad, s.B, s.C);
        Ops.LastTokenPoolBackward(context, g.Pooled, a.Lengths, g.Residual, s.B, s.T, s.C);
        for (int l = layers.Length - 1; l >= 0; l--) layers[l].Backward(a, acts.Layers[l], g);
        Ops.EmbeddingBackward(context, a.TokenIds, g.Residual, embedding.Grad, s.N, Config.VocabSize, s.C);
    }

    /// <summary>Validates and uploads a batch, (re)building the arena if its shape changed.</summary>
    private ActivationArena Prepare(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int count, int seqLen)
    {
        long n = (long)count * seqLen;
        if (staged.Length != n) staged = new int[checked((int)n)];
        TokenBatch.Stage(Config, tokens, lengths, count, seqLen, staged);
        var shape = new BatchShape(Config, count, seqLen);
        if (arena is null || arena.Shape != shape)
        {
            arena?.Dispose();
            arena = null;
            arena = new ActivationArena(context, shape);
        }
        arena.TokenIds.CopyFrom(staged);
        arena.Lengths.CopyFrom(lengths);
        return arena;
    }

    /// <summary>Frees the activations and the parameters (not the context).</summary>
    public void Dispose()
    {
        arena?.Dispose();
        arena = null;
        store.Dispose();
    }
}
