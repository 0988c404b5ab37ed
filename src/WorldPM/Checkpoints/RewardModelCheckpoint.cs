using System.Text.Json.Nodes;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Checkpoints;

/// <summary>
/// A <see cref="RewardModel"/> as a Hugging Face-style checkpoint directory: <c>config.json</c> (Qwen2 or Llama
/// names plus the head's fields) and safetensors weights under the Hugging Face tensor names plus <c>score.0</c> /
/// <c>score.2</c> for the head, so other tools can load ours and we can load theirs (Qwen2, Qwen2.5 and Llama
/// checkpoints, single-file or sharded).
/// </summary>
public static class RewardModelCheckpoint
{
    /// <summary>
    /// Writes the model's weights and config into <paramref name="directory"/>, the weights in the dtype the model
    /// trains in, as Hugging Face does: an f32 model its fp32 weights, an f16/bf16 model its f16/bf16 working weights
    /// (the rounded masters), with <c>torch_dtype</c> in the config saying which. The fp32 masters of an f16/bf16 run
    /// are saved with the optimizer state (see <see cref="TrainingState.MasterName"/>), so resuming stays exact.
    /// Each tensor is streamed from the model's buffer to the file, never whole on the host.
    /// </summary>
    /// <param name="maxShardBytes">Above this many bytes of weights, shards and an index (see <see cref="ModelCheckpoint"/>).</param>
    public static void Save(RewardModel model, string directory, long maxShardBytes = ModelCheckpoint.DefaultMaxShardBytes)
    {
        ArgumentNullException.ThrowIfNull(model);
        IEnumerable<TensorData> tensors = model.Parameters.Select(p =>
            TensorData.FromBuffer(p.Name, [.. p.Shape], model.Precision == Precision.F32 ? p.Value : p.Working));
        var config = JsonNode.Parse(model.Config.ToJson())!;
        config[TorchDTypeKey] = TorchDType(model.Precision);
        ModelCheckpoint.Write(directory, tensors, config, maxShardBytes);
    }

    /// <summary>Builds a model from a checkpoint directory's <c>config.json</c> and weights.</summary>
    /// <param name="allowMissingHead">Accept a checkpoint without <c>score.*</c> tensors (a base Qwen2 model):
    /// the head keeps its fresh initialisation from <paramref name="seed"/>.</param>
    /// <param name="precision">How the model stores its working weights, activations and gradients.</param>
    /// <param name="allowNonFinite">Load weights holding NaN or infinity instead of refusing them (see <see cref="LoadInto"/>).</param>
    /// <param name="unusedTensors">Receives, in name order, the checkpoint's tensors the model has no parameter for (a
    /// causal LM's <c>lm_head.weight</c>, another head's <c>score.weight</c>): loaded past, but worth a warning.</param>
    public static RewardModel Load(WorldPMContext context, string directory, int seed = 1, bool allowMissingHead = false,
        Precision precision = Precision.F32, bool allowNonFinite = false, ICollection<string>? unusedTensors = null)
    {
        using ModelCheckpointReader reader = ModelCheckpoint.Open(directory);
        ModelConfig config = ModelConfig.FromJson(reader.Config.ToJsonString());
        // Both checks before any allocation: a config that cannot fit, or weights of other shapes, fail at once.
        try
        {
            ModelMemory.RequireFits(config, precision, context.Backend);
        }
        catch (InsufficientMemoryException e)
        {
            throw new InsufficientMemoryException($"{directory}: {e.Message}", e);
        }
        IReadOnlyList<ParameterSpec> specs = RewardModel.Specs(config);
        reader.Validate(Expected(specs.Select(s => (s.Name, s.Shape)), reader, allowMissingHead), ignoreUnexpected: _ => true);
        if (unusedTensors is not null)
        {
            var used = specs.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            foreach (TensorInfo t in reader.Tensors.Where(t => !used.Contains(t.Name))) unusedTensors.Add(t.Name);
        }
        var model = new RewardModel(context, config, seed, precision);
        try
        {
            LoadInto(model, reader, allowMissingHead, allowNonFinite);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies the tensors of <paramref name="reader"/> into <paramref name="model"/>'s fp32 master weights (F32, F16,
    /// BF16 or F64 on disk, each copied or converted once, straight from the memory-mapped file into the parameter),
    /// then refreshes its working weights.
    /// Every parameter must be present with its shape (head tensors may be missing when allowed); tensors a
    /// reward model does not have, such as a causal LM's <c>lm_head.weight</c>, are ignored.
    /// A NaN or infinite weight is refused (a <see cref="CheckpointFormatException"/> naming the tensor and element)
    /// unless <paramref name="allowNonFinite"/>: a checksum only proves the file is what was written, and a model with
    /// one such weight scores every sequence NaN.
    /// </summary>
    public static void LoadInto(RewardModel model, ModelCheckpointReader reader, bool allowMissingHead = false, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(reader);
        var expected = Expected(model.Parameters.Select(p => (p.Name, p.Shape.ToArray())), reader, allowMissingHead);
        reader.Validate(expected, ignoreUnexpected: _ => true);
        foreach (Parameter p in model.Parameters.Where(p => expected.ContainsKey(p.Name)))
        {
            TensorDType dtype = reader[p.Name].DType;
            if (!dtype.IsConvertibleFloat())
                throw new CheckpointFormatException(reader.Directory,
                    $"tensor {p.Name} has dtype {dtype}; a reward model loads F32, F16, BF16 or F64 weights");
            reader.CopyTo(p.Name, p.Value, allowNonFinite ? null : (element, value) =>
                throw new CheckpointFormatException(reader.Directory,
                    $"tensor {p.Name} holds a non-finite weight ({value} at element {element}); the checkpoint is damaged " +
                    "or its training diverged (--allow-nonfinite loads it anyway)"));
        }
        model.SyncWorkingWeights();
    }

    /// <summary>The config key Hugging Face reads a checkpoint's weight dtype from.</summary>
    public const string TorchDTypeKey = "torch_dtype";

    /// <summary>The <c>torch_dtype</c> of weights saved from a model of <paramref name="precision"/>.</summary>
    public static string TorchDType(Precision precision) => precision switch
    {
        Precision.F16 => "float16",
        Precision.BF16 => "bfloat16",
        _ => "float32",
    };

    /// <summary>The tensors a model's parameters need from <paramref name="reader"/> (a missing head left out when allowed).</summary>
    private static Dictionary<string, TensorExpectation> Expected(IEnumerable<(string Name, long[] Shape)> parameters,
        ModelCheckpointReader reader, bool allowMissingHead) =>
        parameters
            .Where(p => !(allowMissingHead && IsHead(p.Name) && !reader.Contains(p.Name)))
            .ToDictionary(p => p.Name, p => new TensorExpectation(p.Shape), StringComparer.Ordinal);

    private static bool IsHead(string name) => name.StartsWith("score.", StringComparison.Ordinal);
}
