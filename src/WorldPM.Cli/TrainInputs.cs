using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;

namespace WorldPM.Cli;

/// <summary>
/// What a <c>train</c> run starts from: the checkpoint it resumes (latest step and directory), the --init checkpoint,
/// the tokenizer, the model config and the sequence length, each checked against the others; the train-side
/// counterpart of <see cref="CheckpointInputs"/>.
/// </summary>
internal sealed record TrainInputs(long? ResumeStep, string? ResumeFrom, string? Init, ITokenizer Tokenizer, string TokenizerName,
    ModelConfig Config, int MaxLength)
{
    /// <summary>Resolves the inputs that --resume, --init, --tokenizer, --config, --scoring-token and --max-length name.</summary>
    public static TrainInputs Resolve(TrainArguments a)
    {
        long? resumeStep = a.Resume && Directory.Exists(a.Out) ? new CheckpointStore(a.Out).LatestStep() : null;
        string? resumeFrom = resumeStep is long latest ? new CheckpointStore(a.Out).DirectoryOf(latest) : null;
        string? init = a.Init is null ? null : ModelInputs.CheckpointDirectory(a.Init);
        var (tokenizer, tokenizerName) = ModelInputs.Tokenizer(a.Tokenizer, init);
        ModelConfig config = Configure(a, resumeFrom ?? init, tokenizer);
        ModelInputs.RequireVocabulary(config, tokenizer, tokenizerName);
        return new TrainInputs(resumeStep, resumeFrom, init, tokenizer, tokenizerName, config, ModelInputs.MaxLength(a.MaxLength, config));
    }

    /// <summary>Where the model's config comes from, as the log names it.</summary>
    public string ConfigSource(TrainArguments a) => ResumeFrom ?? Init ?? a.Config ?? "the built-in small config";

    /// <summary>A new model (the config's, seeded), or --init's weights with a fresh score head where it has none; a
    /// resumed run starts from a new model and loads its checkpoint into it. --init's tensors the model does not use
    /// (a causal LM's lm_head.weight) are named in a warning line on <paramref name="log"/>; a missing one stops the
    /// load naming it.</summary>
    public RewardModel CreateModel(WorldPMContext context, TrainArguments a, TextWriter log)
    {
        if (Init is not null && ResumeFrom is null)
        {
            var unused = new List<string>();
            RewardModel model = RewardModelCheckpoint.Load(context, Init, a.Seed, allowMissingHead: true, a.Precision,
                unusedTensors: unused);
            if (unused.Count > 0)
                log.WriteLine($"warning: --init {Init}: {unused.Count} tensor{(unused.Count == 1 ? "" : "s")} the reward " +
                    $"model does not use, left unread: {string.Join(", ", unused)}");
            return model;
        }
        try
        {
            return new RewardModel(context, Config, a.Seed, a.Precision);
        }
        catch (InsufficientMemoryException e)
        {
            throw new InsufficientMemoryException($"{ConfigSource(a)}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The max_position_embeddings of the built-in small model: Qwen2's. RoPE places any position, so the limit is what
    /// the config promises to score, not the training length (eval and score may then run longer sequences than the
    /// model was trained on; --max-length chooses).
    /// </summary>
    private const int SmallModelPositions = 32768;

    /// <summary>The checkpoint's config (resumed or --init), else --config's or the built-in small one; --scoring-token
    /// may choose the scoring token of a new model only.</summary>
    private static ModelConfig Configure(TrainArguments a, string? checkpoint, ITokenizer tokenizer)
    {
        ModelConfig config = checkpoint is not null ? ModelInputs.CheckpointConfig(checkpoint)
            : a.Config is not null ? ModelInputs.ReadConfig(a.Config)
            : ModelConfig.Small(tokenizer.VocabSize, Math.Max(SmallModelPositions, a.MaxLength ?? ModelInputs.DefaultMaxLength));
        if (a.ScoringToken is not { } scoring || scoring == config.ScoringToken) return config;
        if (checkpoint is not null)
            throw new UsageException($"--scoring-token {Name(scoring)} differs from the checkpoint's scoring_token " +
                $"{Name(config.ScoringToken)} ({checkpoint}); leave it out to keep the checkpoint's");
        return config with { ScoringToken = scoring };
    }

    private static string Name(ScoringToken token) => token == ScoringToken.ImEnd ? "im_end" : "endoftext";
}
