using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>What <see cref="RewardModel"/> needs of a <see cref="RewardNetwork{T}"/>, whatever T.</summary>
internal interface IRewardNetwork : IDisposable
{
    IReadOnlyList<Parameter> Parameters { get; }

    DeviceBuffer<float> Values { get; }

    DeviceBuffer Grads { get; }

    /// <summary>See <see cref="RewardModel.HasGradients"/>.</summary>
    bool HasGradients { get; }

    void SyncWorking();

    /// <summary>See <see cref="RewardModel.FullLastLayer"/>.</summary>
    bool FullLastLayer { get; set; }

    /// <summary>See <see cref="RewardModel.RecomputeActivations"/>.</summary>
    bool RecomputeActivations { get; set; }

    /// <summary>See <see cref="RewardModel.BatchInvariant"/>.</summary>
    bool BatchInvariant { get; set; }

    /// <summary>See <see cref="RewardModel.FusedHead"/>.</summary>
    bool FusedHead { get; set; }

    /// <summary>See <see cref="RewardModel.ActivationBytes"/>.</summary>
    long ActivationBytes { get; }

    /// <summary>See <see cref="RewardModel.ForwardBackward(PairBatch, float, Action{long}?)"/>: the pairs' 2P
    /// sequences (chosen half first) and their weights (empty: the plain mean). Without <paramref name="hostLoss"/> the
    /// loss is the native fused Bradley-Terry on the device; with it, the rewards go to the host, it computes the loss and
    /// d loss / d reward, and those (times <paramref name="lossScale"/>) come back for the backward. The loss and the
    /// rewards stay on the device (<see cref="PairOutputs"/>) until a caller reads them.</summary>
    PairOutputs ForwardBackward(SequenceBatch sequences, ReadOnlySpan<float> weights, float lossScale,
        Action<long>? gradientsFinalFrom, HostPairLoss? hostLoss = null);

    /// <summary>See <see cref="RewardModel.ReserveActivations"/>.</summary>
    object ReserveActivations(IEnumerable<BatchShape> shapes);

    /// <summary><see cref="ForwardBackward(SequenceBatch, ReadOnlySpan{float}, float, Action{long}?, HostPairLoss?)"/>
    /// with the native loss on a micro-batch staged in device buffers (<see cref="StagedPairs"/>), which it copies into
    /// the arena <see cref="ReserveActivations"/> made fit: nothing in it uploads or allocates, so it can be recorded.</summary>
    PairOutputs ForwardBackward(StagedPairs staged, float lossScale, Action<long>? gradientsFinalFrom);

    /// <summary>A new buffer of <paramref name="count"/> elements of the gradients' dtype (contents undefined).</summary>
    DeviceBuffer AllocateGradients(long count);

    /// <summary>See <see cref="RewardModel.Score(SequenceBatch)"/>.</summary>
    float[] Score(SequenceBatch sequences);

    /// <summary>See <see cref="RewardModel.CudaGraphs"/>, resolved for the backend: Off, On (a forward that cannot be
    /// recorded throws) or Auto (it runs eagerly).</summary>
    CudaGraphs ScoreGraphs { get; set; }

    /// <summary>Scoring forwards run as a graph replay so far.</summary>
    long ScoringReplays { get; }

    /// <summary>See <see cref="RewardModel.HeadInputs"/>.</summary>
    float[] HeadInputs(SequenceBatch sequences);

    /// <summary>See <see cref="RewardModel.RewardInputGradients"/>.</summary>
    InputGradients RewardInputGradients(SequenceBatch sequences, ReadOnlySpan<float> inputs);
}

/// <summary>
/// The layers of a <see cref="RewardModel"/> with weights, activations and gradients stored as T (float, Half or
/// BFloat16; every op computes in fp32): embedding, L decoder layers, the final RMSNorm on each sequence's
/// scoring token and the preference head. The last layer runs at the scoring rows only
/// (<see cref="DecoderLayer{T}.ForwardScoringRows"/>) unless <see cref="FullLastLayer"/> is set. A batch is padded or
/// packed (<see cref="SequenceLayout"/>); every op but attention and RoPE is per token row and runs either the same.
/// Activations live in one arena (<see cref="ActivationArena{T}"/>), sized for the largest batch seen so far (per way
/// of running the last layer and <see cref="ActivationPlan"/>: training's, which <see cref="RecomputeActivations"/>
/// picks, or the forward-only one of scoring) and carved anew for each batch shape.
/// </summary>
internal sealed class RewardNetwork<T> : IRewardNetwork where T : unmanaged
{
    private readonly WorldPMContext context;
    private readonly ModelConfig config;
    private readonly ParameterStore<T> store;
    private readonly Weight<T> embedding;
    private readonly DecoderLayer<T>[] layers;
    private readonly PreferenceHead<T> head;
    private ActivationArena<T>? arena;
    private ScoringGraph? scoring;

    public RewardNetwork(WorldPMContext context, ModelConfig config, int seed)
    {
        this.context = context;
        this.config = config;
        store = new ParameterStore<T>(context, RewardModel.Specs(config), seed);
        embedding = store["model.embed_tokens.weight"];
        layers = [.. Enumerable.Range(0, config.NumHiddenLayers).Select(i => new DecoderLayer<T>(context, config, store, i))];
        head = new PreferenceHead<T>(context, config, store);
    }

    public IReadOnlyList<Parameter> Parameters => store.Parameters;

    public DeviceBuffer<float> Values => store.Values;

    public DeviceBuffer Grads => store.Grads;

    public bool HasGradients => store.HasGradients;

    public void SyncWorking() => store.SyncWorking();

    public DeviceBuffer AllocateGradients(long count) => context.Allocate<T>(count);

    public bool FullLastLayer { get; set; }

    public bool RecomputeActivations { get; set; }

    public bool BatchInvariant { get; set; }

    public bool FusedHead
    {
        get => head.Fused;
        set => head.Fused = value;
    }

    public long ActivationBytes => arena?.Bytes ?? 0;

    private DecoderLayer<T> LastLayer => layers[^1];

    public PairOutputs ForwardBackward(SequenceBatch sequences, ReadOnlySpan<float> weights, float lossScale,
        Action<long>? gradientsFinalFrom, HostPairLoss? hostLoss = null)
    {
        int pairs = sequences.Count / 2;
        ActivationArena<T> a = Prepare(sequences, TrainingPlan);
        HeadActivations<DeviceBuffer<T>, DeviceBuffer<float>> h = a.Layout.Head;
        if (hostLoss is not null)
        {
            Forward(a);
            return HostLossBackward(a, hostLoss, pairs, lossScale, gradientsFinalFrom);
        }
        using DeviceBuffer<float>? w = weights.IsEmpty ? null : h.Weights.View(0, pairs);
        w?.CopyFrom(weights);
        return NativeLossForwardBackward(a, pairs, w, lossScale, gradientsFinalFrom);
    }

    public object ReserveActivations(IEnumerable<BatchShape> shapes)
    {
        foreach (BatchShape shape in shapes) Fit(shape, TrainingPlan);
        return arena!;
    }

    public PairOutputs ForwardBackward(StagedPairs staged, float lossScale, Action<long>? gradientsFinalFrom)
    {
        if (arena is null || arena.Plan != TrainingPlan || arena.FullLastLayer != FullLastLayer ||
            !arena.Fits(staged.Shape))
            throw new InvalidOperationException("the activations were not reserved for this micro-batch " +
                "(ReserveActivations, with the same layout, comes first)");
        ActivationArena<T> a = arena;
        a.BatchInvariant = BatchInvariant;
        a.Load(staged);
        using DeviceBuffer<float>? w = staged.Weights is null ? null : a.Layout.Head.Weights.View(0, staged.Pairs);
        if (w is not null) w.CopyFrom(staged.Weights!);
        return NativeLossForwardBackward(a, staged.Pairs, w, lossScale, gradientsFinalFrom);
    }

    /// <summary>Forward and backward through the native fused loss of the batch loaded in <paramref name="a"/>.</summary>
    private PairOutputs NativeLossForwardBackward(ActivationArena<T> a, int pairs, DeviceBuffer<float>? weights,
        float lossScale, Action<long>? gradientsFinalFrom)
    {
        var pairLoss = new PairLoss(pairs, weights, lossScale);
        Forward(a, loss: pairLoss);
        Backward(a, gradientsFinalFrom, loss: pairLoss);
        return new PairOutputs(a.Layout.Head.Loss, a.Layout.Head.Rewards, pairs);
    }

    /// <summary>The loss on the host: the rewards come over, <paramref name="hostLoss"/> gives the loss and d loss / d
    /// reward, and those times <paramref name="lossScale"/> (as the fused op's dloss) go back into the backward's
    /// scratch. The loss goes to the device as well, where a trainer's step metrics take it.</summary>
    private PairOutputs HostLossBackward(ActivationArena<T> a, HostPairLoss hostLoss, int pairs, float lossScale,
        Action<long>? gradientsFinalFrom)
    {
        float[] rewards = new float[2 * pairs], gradients = new float[2 * pairs];
        a.Layout.Head.Rewards.CopyTo(rewards);
        float loss = (float)hostLoss(rewards.AsSpan(0, pairs), rewards.AsSpan(pairs), gradients.AsSpan(0, pairs),
            gradients.AsSpan(pairs));
        for (int i = 0; i < gradients.Length; i++) gradients[i] *= lossScale;
        Scratch(a).Rewards.CopyFrom(gradients);
        a.Layout.Head.Loss.CopyFrom([loss]);
        Backward(a, gradientsFinalFrom);
        return new PairOutputs(a.Layout.Head.Loss, a.Layout.Head.Rewards, pairs)
        {
            OnHost = new PairStepResult(loss, rewards[..pairs], rewards[pairs..]),
        };
    }

    public float[] Score(SequenceBatch sequences)
    {
        // Forward only: no backward will read a layer's intermediates, so one residual stream and one layer's working
        // set compute the same rewards in a fraction of the memory (W5: 1.8 GB with the training layout, 978 MB with
        // the recomputation one, 252 MB forward only).
        // A recorded forward runs a packed batch rounded up to its length bucket, so that batches of nearby lengths
        // share the recording (the filler changes no reward); an eager one runs its real tokens only.
        ActivationArena<T> a = Prepare(ScoreGraphs == CudaGraphs.Off ? sequences : LengthBuckets.Pad(config, sequences),
            ActivationPlan.ForwardOnly);
        if (ScoreGraphs == CudaGraphs.Off) Forward(a);
        else RunScoringForward(a);
        float[] rewards = new float[sequences.Count];
        a.Layout.Head.Rewards.CopyTo(rewards);
        return rewards;
    }

    public CudaGraphs ScoreGraphs { get; set; } = CudaGraphs.Off;

    public long ScoringReplays { get; private set; }

    /// <summary>
    /// The scoring forward of one arena and batch shape (the arena carves its views per shape, and the recording holds
    /// their addresses and sizes; a packed shape is its sequence and token counts) and one <see cref="BatchInvariant"/>
    /// choice, which picks the GEMMs: eager the first time, recorded the second, replayed after. The recording reads
    /// the arena's fixed buffers, into which <see cref="Prepare"/> uploaded the batch before (a packed batch's offsets
    /// among them, checked on the device at each replay); a new arena, shape or choice drops it. A packed recording
    /// also holds the attention's max_seqlen, the longest sequence of the batch it recorded, which sizes the
    /// attention's grid: it replays any batch of the shape whose sequences are no longer (the extra blocks find no
    /// rows and return, so the rewards are the eager forward's bits), and a longer one drops it. Capturable false:
    /// the forward could not be recorded (Auto), so this shape runs eagerly.
    /// </summary>
    private sealed class ScoringGraph(ActivationArena<T> arena, BatchShape shape, bool batchInvariant) : IDisposable
    {
        public ActivationArena<T> Arena { get; } = arena;
        public BatchShape Shape { get; } = shape;
        public bool BatchInvariant { get; } = batchInvariant;
        public DeviceGraph? Graph { get; set; }
        public bool Capturable { get; set; } = true;

        /// <summary>Packed: the max_seqlen the recording's attention was given; 0 padded or not yet recorded.</summary>
        public long RecordedMaxLength { get; set; }

        /// <summary>Whether the recording can run <paramref name="a"/>'s batch: a packed one's sequences fit its grid.</summary>
        public bool Covers(ActivationArena<T> a) => Graph is null || (a.Packing?.MaxLength ?? 0) <= RecordedMaxLength;

        public void Dispose() => Graph?.Dispose();
    }

    private void RunScoringForward(ActivationArena<T> a)
    {
        if (scoring is not null && (!ReferenceEquals(scoring.Arena, a) || scoring.Shape != a.Shape ||
            scoring.BatchInvariant != BatchInvariant || !scoring.Covers(a)))
        {
            scoring.Dispose();
            scoring = null;
        }
        if (scoring is null)
        {
            Forward(a);  // the first batch of a shape makes what the forward allocates once (sequences block, error word)
            scoring = new ScoringGraph(a, a.Shape, BatchInvariant);
            return;
        }
        if (scoring.Graph is null && scoring.Capturable)
        {
            try
            {
                scoring.Graph = DeviceGraph.Capture(context, () => Forward(a));
                scoring.RecordedMaxLength = a.Packing?.MaxLength ?? 0;
            }
            catch (WorldPMArgumentException) when (ScoreGraphs == CudaGraphs.Auto)
            {
                scoring.Capturable = false;  // the aborted recording ran nothing: the forward runs below
            }
        }
        if (scoring.Graph is null)
        {
            Forward(a);
            return;
        }
        scoring.Graph.Launch();
        ScoringReplays++;
    }

    public float[] HeadInputs(SequenceBatch sequences)
    {
        ActivationArena<T> a = Prepare(sequences, ActivationPlan.ForwardOnly);
        Forward(a);
        head.Normalize(a, a.Layout.Head);
        return a.Layout.Head.PooledNorm.ToFloats();
    }

    public InputGradients RewardInputGradients(SequenceBatch sequences, ReadOnlySpan<float> inputs)
    {
        ActivationArena<T> a = Prepare(sequences, TrainingPlan);
        DeviceBuffer<T> layerInput = a.Layout.Layers[0].Input;
        if (!inputs.IsEmpty)
        {
            using DeviceBuffer<float> given = context.Allocate<float>(inputs.Length);
            given.CopyFrom(inputs);
            Ops.Cast(context, given, layerInput);
        }
        Forward(a, embedTokens: inputs.IsEmpty);
        // Each row's reward depends on its own sequence only, so seeding d reward / d reward = 1 in every row gives
        // each sequence's own input gradient from one backward.
        Scratch(a).Rewards.Fill(1);
        Backward(a, gradientsFinalFrom: null, intoEmbeddingTable: false);
        float[] rewards = new float[sequences.Count];
        a.Layout.Head.Rewards.CopyTo(rewards);
        var result = new InputGradients(rewards, layerInput.ToFloats(), Scratch(a).Residual.ToFloats());
        store.Grads.Fill(0);
        return result;
    }

    /// <summary>The forward from layer 0's input: the token ids' embedding rows, or (<paramref name="embedTokens"/>
    /// false) whatever the caller wrote there.</summary>
    private void Forward(ActivationArena<T> a, bool embedTokens = true, PairLoss? loss = null)
    {
        BatchShape s = a.Shape;
        var acts = a.Layout;
        if (embedTokens)
            Ops.EmbeddingForward(context, a.TokenIds, embedding.Value, acts.Layers[0].Input, s.N, config.VocabSize, s.C);
        for (int l = 0; l + 1 < layers.Length; l++) layers[l].Forward(a, acts.Layers[l], acts.Layers[l + 1].Input);
        if (FullLastLayer)
        {
            LastLayer.Forward(a, acts.Layers[^1], acts.Head.Output);
            ScoringRows.Gather(context, a, acts.Head.Output, acts.Head.Pooled, s.C);
        }
        else
        {
            LastLayer.ForwardScoringRows(a, acts.Layers[^1], acts.Head.Pooled);
        }
        // model.norm is row-wise, so normalizing only the pooled rows (in the head) is exact: norm(pool(x)) = pool(norm(x)).
        head.Forward(a, acts.Head, loss);
    }

    /// <summary>
    /// From d loss / d reward (in the scratch) down to the embedding; parameter gradients accumulate. Tensors are laid
    /// out in forward order, so the backward finishes them from the end of the flat gradient buffer down:
    /// <paramref name="gradientsFinalFrom"/> hears each offset from which on every gradient is final (after the head
    /// and final norm, after each layer, after the embedding: 0), which is when a data-parallel bucket can start.
    /// Without <paramref name="intoEmbeddingTable"/> it stops at d loss / d layer 0's input, left in g.Residual.
    /// With <paramref name="loss"/> it starts from the loss the forward computed (writing d loss / d reward).
    /// </summary>
    private void Backward(ActivationArena<T> a, Action<long>? gradientsFinalFrom, bool intoEmbeddingTable = true,
        PairLoss? loss = null)
    {
        BatchShape s = a.Shape;
        var acts = a.Layout;
        var g = Scratch(a);
        head.Backward(a, acts.Head, g, loss);
        if (FullLastLayer)
        {
            ScoringRows.ScatterIntoZeros(context, a, g.Pooled, g.Residual, s.C);
            LastLayer.Backward(a, acts.Layers[^1], g);
        }
        else
        {
            LastLayer.BackwardScoringRows(a, acts.Layers[^1], g.Pooled, g);
        }
        gradientsFinalFrom?.Invoke(LayerStart(layers.Length - 1));
        // With recomputation the shared intermediates still hold the last layer's forward, which ran last; each
        // earlier layer's are rebuilt from its kept input.
        for (int l = layers.Length - 2; l >= 0; l--)
        {
            if (a.Recompute) layers[l].Recompute(a, acts.Layers[l]);
            layers[l].Backward(a, acts.Layers[l], g);
            gradientsFinalFrom?.Invoke(LayerStart(l));
        }
        if (!intoEmbeddingTable) return;
        Ops.EmbeddingBackward(context, a.TokenIds, g.Residual, embedding.Grad, s.N, config.VocabSize, s.C);
        gradientsFinalFrom?.Invoke(0);
    }

    private ActivationPlan TrainingPlan => RecomputeActivations ? ActivationPlan.Recompute : ActivationPlan.KeepAll;

    private static BackwardScratch<DeviceBuffer<T>, DeviceBuffer<float>> Scratch(ActivationArena<T> a) =>
        a.Layout.Backward ?? throw new InvalidOperationException("the arena was planned for a forward only");

    /// <summary>The flat offset of layer <paramref name="layer"/>'s first tensor.</summary>
    private long LayerStart(int layer) => store.OffsetOf(DecoderLayer.Specs(config, layer).First().Name);

    /// <summary>Uploads a batch as it is laid out into the arena, which is reused while the batch fits in it (any
    /// shape with no more sequences and token rows), grown to cover both the old capacity and the batch when it does
    /// not, and rebuilt for the batch when the way of running the last layer or the plan changed.</summary>
    private ActivationArena<T> Prepare(SequenceBatch sequences, ActivationPlan plan)
    {
        BatchShape shape = BatchShape.Of(config, sequences);
        ActivationArena<T> a = Fit(shape, plan);
        a.BatchInvariant = BatchInvariant;
        a.Load(shape, sequences);
        return a;
    }

    /// <summary>The arena, rebuilt or grown where it does not hold <paramref name="shape"/> (see
    /// <see cref="Prepare"/>).</summary>
    private ActivationArena<T> Fit(BatchShape shape, ActivationPlan plan)
    {
        bool sameLayout = arena is not null && arena.FullLastLayer == FullLastLayer && arena.Plan == plan;
        if (!sameLayout || !arena!.Fits(shape))
        {
            BatchShape capacity = sameLayout ? Cover(arena!.Capacity, shape) : shape;
            arena?.Dispose();
            arena = null;
            arena = new ActivationArena<T>(context, capacity, FullLastLayer, plan);
        }
        return arena;
    }

    /// <summary>The smallest capacity that holds both shapes: as many sequences and token rows as the larger of each
    /// (packed, whose integers cover a padded batch's too).</summary>
    private BatchShape Cover(BatchShape a, BatchShape b) =>
        new(config, Math.Max(a.Batch, b.Batch), checked((int)Math.Max(a.N, b.N)), Packed: true, Math.Max(a.Filler, b.Filler));

    /// <summary>Frees the activations and the parameters (not the context).</summary>
    public void Dispose()
    {
        scoring?.Dispose();
        scoring = null;
        arena?.Dispose();
        arena = null;
        store.Dispose();
    }
}
