using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Cli;

/// <summary>
/// <c>worldpm inspect DIR</c>: what a checkpoint (or a directory holding only a config.json) is and what it would
/// take to run, without reading its weights: the config, parameters by component, the tensors' dtypes and bytes on
/// disk, and the memory that scoring and training need at a batch and length, against what this backend has.
/// </summary>
internal static class InspectCommand
{
    private sealed record Arguments(string Directory, Precision Precision, int Batch, int? MaxLength, bool Recompute, bool Json);

    public static Command Create()
    {
        var directory = new Argument<string>("DIR")
        {
            Description = "A checkpoint directory, a `worldpm train --out` run directory (its latest checkpoint), or a directory holding only a config.json.",
        };
        var precision = new Option<Precision>("--precision") { Description = "Storage of weights, activations and gradients.", DefaultValueFactory = _ => Precision.F32, HelpName = "f32|f16|bf16" };
        var batch = CommonOptions.Batch("Pairs per training micro-batch (scoring counts the same number of sequences twice over).", 8);
        var maxLength = CommonOptions.MaxLength($"{ModelInputs.DefaultMaxLength}, or the model's max_position_embeddings if smaller");
        var recompute = new Option<bool>("--recompute") { Description = "Count training activations with per-layer recomputation (train --recompute)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (config, parameters, components, files, memory)." };
        var command = new Command("inspect", "Show a checkpoint's config, parameters, tensors on disk and the memory scoring and training need, without reading its weights.")
        {
            directory, precision, batch, maxLength, recompute, json,
        };
        command.SetAction(r => Run(new Arguments(r.GetValue(directory)!, r.GetValue(precision), r.GetValue(batch), r.GetValue(maxLength),
            r.GetValue(recompute), r.GetValue(json)), BackendSelection.Of(r), r.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(Arguments a, Backend backend, TextWriter output)
    {
        string checkpoint = ModelInputs.CheckpointDirectory(a.Directory);
        ModelConfig config = ModelInputs.CheckpointConfig(checkpoint);
        int length = ModelInputs.MaxLength(a.MaxLength, config);
        ParameterBreakdown parts = ModelMemory.Components(config);
        double parameters = ModelMemory.ParameterCount(config);
        DiskTensors? disk = DiskTensors.Read(checkpoint);

        double weights = ModelMemory.WeightBytes(config, a.Precision);
        double gradients = ModelMemory.GradientBytes(config, a.Precision);  // training only
        double scoreActivations = ModelMemory.ScoringActivationBytes(config, a.Precision, 2 * a.Batch, length);
        double trainActivations = ModelMemory.ActivationBytes(config, a.Precision, 2 * a.Batch, length, a.Recompute);
        double optimizer = ModelMemory.OptimizerBytes(config);
        double score = weights + scoreActivations, train = weights + gradients + optimizer + trainActivations;
        long? available = ModelMemory.Available(backend);

        if (a.Json)
        {
            var json = new JsonObject
            {
                ["checkpoint"] = checkpoint,
                ["config"] = JsonNode.Parse(config.ToJson()),
                ["parameters"] = parameters,
                ["components"] = new JsonObject
                {
                    ["embedding"] = parts.Embedding, ["per_layer"] = parts.PerLayer, ["layers"] = parts.Layers,
                    ["final_norm"] = parts.FinalNorm, ["head"] = parts.Head,
                },
                ["files"] = disk?.ToJson(),
                ["memory"] = new JsonObject
                {
                    ["backend"] = BackendNames.Name(backend),
                    ["precision"] = a.Precision.ToString().ToLowerInvariant(),
                    ["batch_pairs"] = a.Batch,
                    ["max_length"] = length,
                    ["recompute"] = a.Recompute,
                    ["score"] = new JsonObject { ["weights"] = weights, ["activations"] = scoreActivations, ["total"] = score },
                    ["train"] = new JsonObject
                    {
                        ["weights"] = weights, ["gradients"] = gradients, ["optimizer"] = optimizer,
                        ["activations"] = trainActivations, ["total"] = train,
                    },
                    ["available"] = available,
                },
            };
            output.WriteLine(json.ToJsonString());
            return 0;
        }

        string Count(double n) => n.ToString("N0", CultureInfo.InvariantCulture);
        string Size(double bytes) => ModelMemory.Size(bytes);
        output.WriteLine($"checkpoint   {checkpoint}");
        output.WriteLine($"model        {config.NumHiddenLayers} layers, d {config.HiddenSize}, {config.NumAttentionHeads} heads " +
            $"({config.NumKeyValueHeads} kv, head dim {config.HeadDim}), MLP {config.IntermediateSize}, vocab {config.VocabSize}, " +
            $"max positions {config.MaxPositionEmbeddings}, head {config.HeadHiddenSize}");
        output.WriteLine($"parameters   {Count(parameters)} ({parameters:G3})");
        output.WriteLine($"  embedding  {Count(parts.Embedding)}");
        output.WriteLine($"  layers     {Count(parts.Layers)} ({config.NumHiddenLayers} x {Count(parts.PerLayer)})");
        output.WriteLine($"  final norm {Count(parts.FinalNorm)}");
        output.WriteLine($"  head       {Count(parts.Head)}");
        output.WriteLine(disk is null ? "weights      none in this directory (config only)" : $"weights      {disk.Describe()}");
        output.WriteLine($"memory       {a.Precision.ToString().ToLowerInvariant()}, {a.Batch} pair{(a.Batch == 1 ? "" : "s")} x {length} tokens" +
            (a.Recompute ? ", recompute" : ""));
        output.WriteLine($"  score      {Size(score)} (weights {Size(weights)}, activations {Size(scoreActivations)})");
        output.WriteLine($"  train      {Size(train)} (weights {Size(weights)}, gradients {Size(gradients)}, " +
            $"AdamW moments {Size(optimizer)}, activations {Size(trainActivations)})");
        output.WriteLine(available is long have
            ? $"  {BackendNames.Name(backend)} backend has {Size(have)}: scoring {(score <= have ? "fits" : "does not fit")}, " +
              $"training {(train <= have ? "fits" : "does not fit")}"
            : $"  the {BackendNames.Name(backend)} backend's memory is checked by its allocator");
        return 0;
    }

    /// <summary>The tensors the checkpoint's safetensors headers describe (only the headers are read).</summary>
    private sealed record DiskTensors(int Tensors, IReadOnlyDictionary<string, int> DTypes, long Bytes, int Files, bool Sharded)
    {
        public static DiskTensors? Read(string directory)
        {
            bool single = File.Exists(Path.Combine(directory, ModelCheckpoint.WeightsFileName));
            if (!single && !File.Exists(Path.Combine(directory, ModelCheckpoint.IndexFileName))) return null;
            using ModelCheckpointReader reader = ModelCheckpoint.Open(directory, verifyChecksums: false);
            var tensors = reader.Tensors.ToList();
            // model.safetensors or its shards (model-00001-of-00004.safetensors); not training_state.safetensors.
            string[] files = Directory.GetFiles(directory, "model*.safetensors");
            return new DiskTensors(tensors.Count,
                tensors.GroupBy(t => t.DType.ToString().ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count()),
                files.Sum(f => new FileInfo(f).Length), files.Length, reader.IsSharded);
        }

        public string Describe() =>
            $"{Tensors} tensors ({string.Join(", ", DTypes.OrderBy(d => d.Key).Select(d => $"{d.Value} {d.Key}"))}), " +
            $"{ModelMemory.Size(Bytes)} in {Files} file{(Files == 1 ? "" : "s")}{(Sharded ? " (sharded)" : "")}";

        public JsonObject ToJson() => new()
        {
            ["tensors"] = Tensors,
            ["dtypes"] = new JsonObject(DTypes.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value))),
            ["bytes"] = Bytes,
            ["files"] = Files,
            ["sharded"] = Sharded,
        };
    }
}
