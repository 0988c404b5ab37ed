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
    /// <summary>Writes the model's fp32 master weights and config into <paramref name="directory"/> (in every
    /// precision: the f16/bf16 working copy is derived from them).</summary>
    public static void Save(RewardModel model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        IEnumerable<TensorData> tensors = model.Parameters.Select(p =>
            TensorData.FromFloats(p.Name, [.. p.Shape], p.Value.ToArray()));
        ModelCheckpoint.Write(directory, tensors, model.Config.ToJson());
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
    /// Copies the tensors of <paramref name="reader"/> into <paramref name="model"/>'s fp32 master weights (F32, F16
    /// or BF16 on disk), then refreshes its working weights.
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
            TensorData tensor = reader.Read(p.Name);
            if (tensor.DType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16))
                throw new CheckpointFormatException(reader.Directory,
                    $"tensor {p.Name} has dtype {tensor.DType}; a reward model loads F32, F16 or BF16 weights");
            float[] values = tensor.ToFloats();
            if (!allowNonFinite && FirstNonFinite(values) is int at)
                throw new CheckpointFormatException(reader.Directory,
                    $"tensor {p.Name} holds a non-finite weight ({values[at]} at element {at}); the checkpoint is damaged " +
                    "or its training diverged (--allow-nonfinite loads it anyway)");
            p.Value.CopyFrom(values);
        }
        model.SyncWorkingWeights();
    }

    /// <summary>The tensors a model's parameters need from <paramref name="reader"/> (a missing head left out when allowed).</summary>
    private static Dictionary<string, TensorExpectation> Expected(IEnumerable<(string Name, long[] Shape)> parameters,
        ModelCheckpointReader reader, bool allowMissingHead) =>
        parameters
            .Where(p => !(allowMissingHead && IsHead(p.Name) && !reader.Contains(p.Name)))
            .ToDictionary(p => p.Name, p => new TensorExpectation(p.Shape), StringComparer.Ordinal);

    private static int? FirstNonFinite(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return null;
    }

    private static bool IsHead(string name) => name.StartsWith("score.", StringComparison.Ordinal);
}
