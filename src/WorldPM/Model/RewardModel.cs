using WorldPM.Losses;
using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// A Qwen2 reward model on one <see cref="WorldPMContext"/>: token embedding, L decoder layers, the final RMSNorm
/// on each sequence's scoring token (its last valid one; batches are right padded or packed) and the preference head,
/// trained with the Bradley-Terry loss. Forward and backward are written out per layer (<see cref="DecoderLayer{T}"/>,
/// <see cref="PreferenceHead{T}"/>) once, over the storage type of the <see cref="Precision"/>
/// (<see cref="RewardNetwork{T}"/>); the fp32 master weights live beside the working ones in f16/bf16.
/// Not thread-safe: one call at a time.
/// </summary>
public sealed class RewardModel : IDisposable
{
    private readonly IRewardNetwork network;
    private readonly Backend backend;

    /// <summary>Creates the parameters and initializes them deterministically from <paramref name="seed"/> (the fp32
    /// master values are the same in every precision).</summary>
    /// <exception cref="ArgumentException">The config is inconsistent.</exception>
    /// <exception cref="NotSupportedException">The config asks for something the library cannot run yet.</exception>
    public RewardModel(WorldPMContext context, ModelConfig config, int seed, Precision precision = Precision.F32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        ModelMemory.RequireFits(config, precision, context.Backend);
        Config = config;
        Precision = precision;
        backend = context.Backend;
        network = precision switch
        {
            Precision.F32 => new RewardNetwork<float>(context, config, seed),
            Precision.F16 => new RewardNetwork<Half>(context, config, seed),
            Precision.BF16 => new RewardNetwork<BFloat16>(context, config, seed),
            _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "not a WorldPM precision"),
        };
        CudaGraphs = CudaGraphs.Auto;
    }

    /// <summary>The model's shape.</summary>
    public ModelConfig Config { get; }

    /// <summary>How working weights, activations and gradients are stored.</summary>
    public Precision Precision { get; }

    /// <summary>Every trainable tensor, in Hugging Face order and names.</summary>
    public IReadOnlyList<Parameter> Parameters => network.Parameters;

    /// <summary>All fp32 master values in one buffer, <see cref="Parameters"/> back to back (each start aligned to 64
    /// elements, the gaps zero): for whole-model operations such as checksums or broadcasts.</summary>
    public DeviceBuffer<float> ParameterValues => network.Values;

    /// <summary>All gradients in one buffer of the storage dtype, laid out like <see cref="ParameterValues"/>: for
    /// all-reduce, norms, scaling. Allocated (zeroed) by the first use of the gradients, this or a training step's:
    /// a model that only scores never holds them.</summary>
    public DeviceBuffer ParameterGradients => network.Grads;

    /// <summary>Whether the gradients have been allocated (see <see cref="ParameterGradients"/>).</summary>
    internal bool HasGradients => network.HasGradients;

    /// <summary>The tensors of a model with this config, in order: embedding, layers, final norm, head.</summary>
    internal static IReadOnlyList<ParameterSpec> Specs(ModelConfig c) =>
    [
        new("model.embed_tokens.weight", ParameterKind.Matrix, c.VocabSize, c.HiddenSize),
        .. Enumerable.Range(0, c.NumHiddenLayers).SelectMany(i => DecoderLayer.Specs(c, i)),
        new("model.norm.weight", ParameterKind.NormWeight, c.HiddenSize),
        .. PreferenceHead.Specs(c),
    ];

    /// <summary>
    /// Runs the last decoder layer at every token instead of only at each sequence's scoring token (the default,
    /// exact since nothing else of that layer reaches the head; see <see cref="DecoderLayer{T}.ForwardScoringRows"/>):
    /// for tests that compare the two.
    /// </summary>
    internal bool FullLastLayer
    {
        get => network.FullLastLayer;
        set => network.FullLastLayer = value;
    }

    /// <summary>
    /// The final norm, the preference head and the Bradley-Terry loss as one native op each way (the default); false
    /// runs the chain of ops it replaces: for tests that compare the two.
    /// </summary>
    internal bool FusedHead
    {
        get => network.FusedHead;
        set => network.FusedHead = value;
    }

    /// <summary>
    /// Activation recomputation (gradient checkpointing per decoder layer): the forward keeps only each layer's input
    /// and the backward reruns a layer's forward before its backward, into one region of intermediates all layers
    /// share. Saves L - 1 layers' intermediates (per layer (3 C + 2 H D + 2 KVH D + 3 I) N elements of the storage
    /// type and (H + 2) N fp32) for about one more forward of compute; rewards, loss and gradients are bitwise the
    /// same either way. A training setting, not part of the model: not saved in config.json. Off by default.
    /// </summary>
    public bool RecomputeActivations
    {
        get => network.RecomputeActivations;
        set => network.RecomputeActivations = value;
    }

    /// <summary>
    /// Batch-invariant rewards: every GEMM of the forward computes each row in one fixed order
    /// (<see cref="GemmLayout.RowInvariant"/>), and every other op of the forward is per row or per sequence already
    /// (norms, RoPE, the activations, pooling; attention reduces each query row over its own sequence's keys in an order
    /// set by its position in that sequence), so a sequence's reward is the same bits whatever else is in its batch, the
    /// batch size, its position in the batch and its companions' lengths. The speed against the cpu and emu backends'
    /// BLAS is in bench/RESULTS.md (W5 reports both); the backward is unchanged (its weight gradients sum over the batch
    /// anyway). Off by default here; <c>worldpm score</c>, <c>eval</c>, <c>serve</c> and <c>explain</c> turn it on.
    /// </summary>
    /// <exception cref="NotSupportedException">Turned on for a model on the cuda backend, which has no row-invariant
    /// GEMM yet.</exception>
    public bool BatchInvariant
    {
        get => network.BatchInvariant;
        set
        {
            if (value && backend == Backend.Cuda)
                throw new NotSupportedException("batch-invariant rewards need a row-invariant GEMM, which the cuda " +
                    "backend does not have yet (cpu and emu have)");
            network.BatchInvariant = value;
        }
    }

    /// <summary>
    /// Whether <see cref="Score(SequenceBatch)"/> runs its forward as a device graph: the first batch of a shape runs
    /// eagerly, the second records the forward (uploading the batch before, reading the rewards after, outside the
    /// recording) and from then on batches of that shape replay it; a batch of another shape (count, length or a packed
    /// batch's token count, anything else the activation arena is keyed on, or a packed sequence longer than any the
    /// recording was made for) starts over. Padded and packed batches both record; a packed batch runs rounded up to its
    /// length bucket (<see cref="LengthBuckets"/>: token count and longest sequence, filled with sequences that are not
    /// scored), so batches whose lengths differ a little share a recording. Rewards are the same bits either way. With
    /// On a forward that cannot be recorded throws (the capture rules of <see cref="DeviceGraph"/>: it names
    /// the call); with Auto (cuda) that shape runs eagerly instead. Auto by default.
    /// <para>A <see cref="WorldPM.Training.Trainer"/> of this model records its optimizer steps by the same setting
    /// (<see cref="WorldPM.Training.RecordedSteps"/>): Auto on cuda and On record them, except where a step cannot be
    /// recorded (a host-side loss, data parallelism), which Auto runs eagerly and On refuses.</para>
    /// </summary>
    /// <exception cref="NotSupportedException">Set to <see cref="Model.CudaGraphs.On"/> for a model on the cpu backend,
    /// which has no graphs.</exception>
    public CudaGraphs CudaGraphs
    {
        get => cudaGraphs;
        set
        {
            if (value == CudaGraphs.On && backend == Backend.Cpu)
                throw new NotSupportedException("CUDA graphs record device work; the cpu backend has none (use cuda or emu, " +
                    "or Auto or Off)");
            cudaGraphs = value;
            network.ScoreGraphs = value == CudaGraphs.Auto && backend != Backend.Cuda ? CudaGraphs.Off : value;
        }
    }

    private CudaGraphs cudaGraphs = CudaGraphs.Auto;

    /// <summary><see cref="CudaGraphs"/> for this backend: Auto is On on cuda and Off elsewhere; a trainer records its
    /// steps by it too.</summary>
    internal CudaGraphs ResolvedCudaGraphs => network.ScoreGraphs;

    /// <summary>Scoring forwards run as a replay of a recorded graph so far (see <see cref="CudaGraphs"/>; 0 where
    /// they run eagerly).</summary>
    public long ScoringReplays => network.ScoringReplays;

    /// <summary>The bytes of the activation arena the last batch ran in (0 before the first): what
    /// <see cref="RecomputeActivations"/> shrinks.</summary>
    internal long ActivationBytes => network.ActivationBytes;

    /// <summary>A view of <paramref name="count"/> elements of <see cref="ParameterGradients"/> from
    /// <paramref name="offset"/> (dispose it after use).</summary>
    public DeviceBuffer GradientSlice(long offset, long count) => network.Grads.Slice(offset, count);

    /// <summary>A new buffer of <paramref name="count"/> elements of <see cref="ParameterGradients"/>' dtype
    /// (contents undefined): for a rank's share of the gradients.</summary>
    internal DeviceBuffer AllocateGradients(long count) => network.AllocateGradients(count);

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad() => network.Grads.Fill(0);

    /// <summary>Rounds the fp32 master values (<see cref="Parameter.Value"/>) into the working weights the forward
    /// reads: needed after writing master values directly (loading a checkpoint does it); nothing in fp32.</summary>
    public void SyncWorkingWeights() => network.SyncWorking();

    /// <summary>
    /// Forward and backward of the Bradley-Terry loss on <paramref name="batch"/>, ADDING the gradient of
    /// lossScale * loss into every <see cref="Parameter.Grad"/> (call <see cref="ZeroGrad"/> between steps).
    /// </summary>
    /// <param name="batch">The pairs, checked against this model's config when the batch was made.</param>
    /// <param name="lossScale">Multiplies the gradient (fp16 loss scaling, or 1 / micro-batches); not the returned loss.</param>
    /// <param name="gradientsFinalFrom">Called during the backward with each flat offset (into
    /// <see cref="ParameterGradients"/>) from which on every gradient is final, descending to 0: where data-parallel
    /// training starts the all-reduce of a bucket while the backward of earlier layers goes on.</param>
    /// <exception cref="ArgumentException">The batch was made for a larger vocabulary or more positions than this
    /// model has.</exception>
    public PairStepResult ForwardBackward(PairBatch batch, float lossScale = 1f, Action<long>? gradientsFinalFrom = null)
    {
        CheckStep(batch, lossScale);
        return network.ForwardBackward(batch.Sequences, batch.Weights, lossScale, gradientsFinalFrom).Read();
    }

    /// <summary>
    /// <see cref="ForwardBackward(PairBatch, float, Action{long}?)"/> with another loss than Bradley-Terry: the rewards
    /// come to the host, <paramref name="loss"/> (on <paramref name="accelerator"/>) gives the loss and its gradient with
    /// respect to each reward, and the backward goes on from there. The built-in <see cref="PreferenceLosses.BradleyTerry"/>
    /// stays on the device as the native fused op.
    /// </summary>
    public PairStepResult ForwardBackward(PairBatch batch, IPreferenceLoss loss, LossAccelerator accelerator,
        float lossScale = 1f, Action<long>? gradientsFinalFrom = null) =>
        ForwardBackwardOnDevice(batch, loss, accelerator, lossScale, gradientsFinalFrom).Read();

    /// <summary><see cref="ForwardBackward(PairBatch, IPreferenceLoss, LossAccelerator, float, Action{long}?)"/>
    /// leaving the loss and the rewards on the device, valid until the next forward: a training step adds them into
    /// its metrics there and reads once per optimizer step.</summary>
    internal PairOutputs ForwardBackwardOnDevice(PairBatch batch, IPreferenceLoss loss, LossAccelerator accelerator,
        float lossScale, Action<long>? gradientsFinalFrom)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(accelerator);
        CheckStep(batch, lossScale);
        if (PreferenceLosses.RunsNatively(loss))
            return network.ForwardBackward(batch.Sequences, batch.Weights, lossScale, gradientsFinalFrom);
        return network.ForwardBackward(batch.Sequences, batch.Weights, lossScale, gradientsFinalFrom,
            (chosen, rejected, dChosen, dRejected) => loss.Compute(accelerator,
                new PreferenceLossBatch(chosen, rejected, batch.Margins, batch.Weights), dChosen, dRejected));
    }

    /// <summary>Makes the activations hold a micro-batch of each of <paramref name="shapes"/> (growing them where
    /// needed, which allocates), before a training step whose micro-batches are staged
    /// (<see cref="ForwardBackwardOnDevice(StagedPairs, float, Action{long}?)"/>). Returns the activations' identity:
    /// a recording of the step addresses them, and a different object means they were rebuilt.</summary>
    internal object ReserveActivations(IEnumerable<BatchShape> shapes) => network.ReserveActivations(shapes);

    /// <summary>The native Bradley-Terry forward and backward of a micro-batch staged in device buffers: the batch
    /// comes into the activations by device copies, so the call can be recorded into a graph and replayed over new
    /// staged contents. The batch was checked when it was staged (<see cref="StagedPairs.Write"/>).</summary>
    internal PairOutputs ForwardBackwardOnDevice(StagedPairs staged, float lossScale, Action<long>? gradientsFinalFrom)
    {
        ArgumentNullException.ThrowIfNull(staged);
        if (!float.IsFinite(lossScale))
            throw new ArgumentOutOfRangeException(nameof(lossScale), lossScale, "the loss scale must be finite");
        return network.ForwardBackward(staged, lossScale, gradientsFinalFrom);
    }

    private void CheckStep(PairBatch batch, float lossScale)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!float.IsFinite(lossScale))
            throw new ArgumentOutOfRangeException(nameof(lossScale), lossScale, "the loss scale must be finite");
        batch.Sequences.CheckRunnableBy(Config);
    }

    /// <summary>
    /// <see cref="ForwardBackward(PairBatch, float, Action{long}?)"/> on ids laid out [2 pairs, seqLen] row-major, right
    /// padded: rows 0..pairs-1 are the chosen responses, rows pairs..2 pairs-1 the rejected ones (pair i is rows i and
    /// pairs + i); ids at padding positions are ignored. <paramref name="lengths"/> holds the valid tokens of each row,
    /// <paramref name="weights"/> is empty or one weight per pair (finite, >= 0, positive sum) for a weighted mean.
    /// </summary>
    public PairStepResult ForwardBackward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int pairs, int seqLen,
        float lossScale = 1f, ReadOnlySpan<float> weights = default, Action<long>? gradientsFinalFrom = null)
    {
        if (pairs < 1) throw new ArgumentOutOfRangeException(nameof(pairs), pairs, "at least one pair is needed");
        var batch = new PairBatch(SequenceBatch.FromPadded(Config, tokens, lengths, checked(2 * pairs), seqLen), weights);
        return ForwardBackward(batch, lossScale, gradientsFinalFrom);
    }

    /// <summary>The reward of each sequence of <paramref name="batch"/>; forward only, gradients untouched.</summary>
    /// <exception cref="ArgumentException">The batch was made for a larger vocabulary or more positions than this
    /// model has.</exception>
    public float[] Score(SequenceBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.CheckRunnableBy(Config);
        return network.Score(batch);
    }

    /// <summary>
    /// What the preference head reads of each sequence, [Count, hidden_size] row-major: the last layer's hidden state at
    /// the scoring token after the final norm (in Hugging Face's terms, <c>last_hidden_state</c> at that position).
    /// Forward only, gradients untouched; for comparing the decoder with other implementations.
    /// </summary>
    internal float[] HeadInputs(SequenceBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.CheckRunnableBy(Config);
        return network.HeadInputs(batch);
    }

    /// <summary>The reward of each of <paramref name="count"/> right-padded sequences [count, seqLen]; forward only,
    /// gradients untouched.</summary>
    public float[] Score(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int count, int seqLen) =>
        Score(SequenceBatch.FromPadded(Config, tokens, lengths, count, seqLen));

    /// <summary>
    /// Each sequence's reward and its gradient with respect to the input of layer 0 (the token embeddings), from one
    /// forward and one backward: what per-token attributions are made of. With <paramref name="inputs"/> empty the
    /// input is the embedding rows of the batch's ids; otherwise <paramref name="inputs"/> [Rows, hidden_size] (padded:
    /// [Count, SeqLen, hidden_size]) replaces them (the ids still give each row's length), e.g. points on a path between a baseline and
    /// the real embeddings. Values at padding positions are ignored. The backward goes through the parameters too:
    /// every parameter gradient is zero on return.
    /// </summary>
    /// <exception cref="ArgumentException">The batch was made for a larger vocabulary or more positions than this
    /// model has, or <paramref name="inputs"/> is neither empty nor Count x SeqLen x hidden_size values.</exception>
    public InputGradients RewardInputGradients(SequenceBatch batch, ReadOnlySpan<float> inputs = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.CheckRunnableBy(Config);
        long expected = (long)batch.Rows * Config.HiddenSize;
        if (!inputs.IsEmpty && inputs.Length != expected)
            throw new ArgumentException($"inputs holds {inputs.Length} values; {batch.Rows} token rows ({batch.Count} " +
                $"sequences, {batch.Layout.ToString().ToLowerInvariant()}) of hidden_size {Config.HiddenSize} need {expected}",
                nameof(inputs));
        return network.RewardInputGradients(batch, inputs);
    }

    /// <summary>Frees the activations and the parameters (not the context).</summary>
    public void Dispose() => network.Dispose();
}
