using System.Text.Json;
using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>A checkpoint to run and what goes with it: its config, the tokenizer, and the sequence length.</summary>
internal sealed record CheckpointInputs(string Checkpoint, ModelConfig Config, ITokenizer Tokenizer, string TokenizerName, int MaxLength,
    bool AllowNonFinite)
{
    /// <summary>
    /// What <c>eval</c> and <c>score</c> need from MODEL_DIR, --tokenizer (default: the checkpoint's or its run
    /// directory's tokenizer files, else byte) and --max-length, each checked against the model.
    /// </summary>
    public static CheckpointInputs Resolve(string modelDirectory, string? tokenizerSpec, int? maxLength, bool allowNonFinite)
    {
        string checkpoint = ModelInputs.CheckpointDirectory(modelDirectory);
        ModelConfig config = ModelInputs.CheckpointConfig(checkpoint);
        var (tokenizer, name) = ModelInputs.Tokenizer(tokenizerSpec, checkpoint, ModelInputs.RunDirectoryOf(checkpoint));
        ModelInputs.RequireVocabulary(config, tokenizer, name);
        return new CheckpointInputs(checkpoint, config, tokenizer, name, ModelInputs.MaxLength(maxLength, config), allowNonFinite);
    }

    /// <summary>The checkpoint's model on <paramref name="context"/> (its weights checked for NaN and infinity unless
    /// --allow-nonfinite), with batch-invariant rewards (<see cref="RewardModel.BatchInvariant"/>) where the backend has
    /// them: what score, eval, serve and explain run, so that a sequence's reward does not change with the batch it was
    /// scored in; <paramref name="cudaGraphs"/> is --cuda-graphs.</summary>
    public RewardModel Load(WorldPMContext context, Precision precision = Precision.F32, CudaGraphs cudaGraphs = CudaGraphs.Auto)
    {
        ModelInputs.RequireGraphs(cudaGraphs, context.Backend);
        RewardModel model = RewardModelCheckpoint.Load(context, Checkpoint, precision: precision, allowNonFinite: AllowNonFinite);
        model.BatchInvariant = context.Backend != Backend.Cuda;
        model.CudaGraphs = cudaGraphs;
        return model;
    }
}

/// <summary>Finding what a command line names: checkpoints, configs, tokenizers, and the sequence length that fits them.</summary>
internal static class ModelInputs
{
    /// <summary>The default --max-length: 512 tokens, or the model's limit when that is smaller.</summary>
    public const int DefaultMaxLength = 512;

    /// <summary>--cuda-graphs on needs a backend with graphs.</summary>
    /// <exception cref="UsageException">On with the cpu backend.</exception>
    public static void RequireGraphs(CudaGraphs cudaGraphs, Backend backend)
    {
        if (cudaGraphs == CudaGraphs.On && backend == Backend.Cpu)
            throw new UsageException("--cuda-graphs on: the cpu backend has no graphs (use --backend cuda or emu, or auto or off)");
    }

    /// <summary>
    /// The checkpoint directory <paramref name="path"/> names: itself when it holds a config.json, else the
    /// latest checkpoint of the run directory it is.
    /// </summary>
    public static string CheckpointDirectory(string path)
    {
        if (!Directory.Exists(path)) throw new UsageException($"model directory '{path}' does not exist");
        if (File.Exists(Path.Combine(path, ModelCheckpoint.ConfigFileName))) return path;
        string? latest = new CheckpointStore(path).LatestDirectory();
        return latest ?? throw new UsageException(
            $"model directory '{path}' holds neither a {ModelCheckpoint.ConfigFileName} nor checkpoints (step-N/) of a training run");
    }

    /// <summary>The run directory a checkpoint directory (step-N) sits in, or null for a checkpoint on its own.</summary>
    public static string? RunDirectoryOf(string checkpoint)
    {
        string full = Path.GetFullPath(checkpoint);
        string? parent = Path.GetDirectoryName(full);
        return parent is not null && Path.GetFileName(full).StartsWith("step-", StringComparison.Ordinal)
            && File.Exists(Path.Combine(parent, CheckpointStore.LatestFileName)) ? parent : null;
    }

    /// <summary>The model config in <paramref name="file"/>, validated; a bad one is a failure naming the file.</summary>
    public static ModelConfig ReadConfig(string file, string what = "config file")
    {
        if (!File.Exists(file)) throw new UsageException($"{what} '{file}' does not exist");
        try
        {
            return ModelConfig.FromJson(File.ReadAllText(file));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"{what} '{file}' is not a usable model config: {e.Message}", e);
        }
    }

    /// <summary>The config of the checkpoint in <paramref name="directory"/>.</summary>
    public static ModelConfig CheckpointConfig(string directory) =>
        ReadConfig(Path.Combine(directory, ModelCheckpoint.ConfigFileName), "checkpoint config");

    /// <summary>
    /// The tokenizer <paramref name="spec"/> names; without one, the tokenizer files in the first of
    /// <paramref name="searchDirectories"/> that has them, else the byte tokenizer.
    /// </summary>
    public static (ITokenizer Tokenizer, string Name) Tokenizer(string? spec, params string?[] searchDirectories)
    {
        spec ??= searchDirectories.FirstOrDefault(d => d is not null && Directory.Exists(d) && PairTokenization.HasTokenizerFiles(d))
            ?? PairTokenization.ByteTokenizerName;
        if (spec != PairTokenization.ByteTokenizerName && !File.Exists(spec) && !Directory.Exists(spec))
            throw new UsageException($"unknown tokenizer '{spec}': use \"byte\", a tokenizer.json file, or a directory holding tokenizer.json or vocab.json + merges.txt");
        return (PairTokenization.LoadTokenizer(spec), spec);
    }

    /// <summary>Fails unless every id of <paramref name="tokenizer"/> has a row in the model's embedding table.</summary>
    public static void RequireVocabulary(ModelConfig config, ITokenizer tokenizer, string tokenizerName)
    {
        if (config.VocabSize < tokenizer.VocabSize)
            throw new InvalidDataException($"the model's vocab_size {config.VocabSize} is smaller than the vocabulary of tokenizer " +
                $"'{tokenizerName}' ({tokenizer.VocabSize}): pass the --tokenizer the model was trained with");
    }

    /// <summary>--max-length as given (at most the model's max_position_embeddings), or its default.</summary>
    public static int MaxLength(int? requested, ModelConfig config)
    {
        if (requested > config.MaxPositionEmbeddings)
            throw new UsageException($"--max-length {requested} exceeds the model's max_position_embeddings ({config.MaxPositionEmbeddings})");
        return requested ?? Math.Min(DefaultMaxLength, config.MaxPositionEmbeddings);
    }
}
