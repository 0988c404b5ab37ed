using System.CommandLine;
using WorldPM.Checkpoints;
using WorldPM.Data;
using WorldPM.Losses;
using WorldPM.Model;
using WorldPM.Native;
using WorldPM.Tokenization;
using WorldPM.Training;

namespace WorldPM.Cli;

/// <summary>What <c>worldpm train</c> was asked to do.</summary>
internal sealed record TrainArguments(
    string[] Data, string Out, string? Config, string? Init, string? Tokenizer, int? MaxLength,
    string? Eval, double? EvalFraction, long EvalEvery, long? Steps, int Batch, int Accumulation,
    double? LearningRate, double WeightDecay, double Warmup, DecayKind Schedule, double MaxGradNorm, int Seed,
    long CheckpointEvery, int Keep, long MaxShardBytes, bool Resume, bool ResumeAnyway, DataLoadOptions Loading, string? Metrics, int LogEvery, bool Quiet, Precision Precision,
    ScoringToken? ScoringToken, bool Recompute, double CommTimeout, double AdamEpsilon, bool Zero1,
    string Loss, string? MarginFrom, double? LabelSmoothing, int? MaxTokensPerBatch, bool NoPacking, CudaGraphs CudaGraphs = CudaGraphs.Auto);

/// <summary>The arguments and options of <c>worldpm train</c>, with their defaults and range checks.</summary>
internal sealed class TrainOptions
{
    private static readonly TrainingOptions Recipe = new();
    private readonly DataOptions _loading = new();

    private readonly Argument<string[]> _data = CommonOptions.DataFiles(
        "Training data: files or directories (JSONL pairs, hh-rlhf, StackExchange, summarize-from-feedback, LLMBar, HelpSteer, Parquet; detected per file).");
    private readonly Option<string> _out = new("--out") { Description = "Run directory for checkpoints (step-N/ and latest).", Required = true, HelpName = "DIR" };
    private readonly Option<string?> _config = new("--config") { Description = "Model config.json (Qwen2 names). Default: a small built-in model (2 layers, d 64, 4 heads) sized for the tokenizer's vocabulary and --max-length.", HelpName = "FILE" };
    private readonly Option<string?> _init = new("--init") { Description = "Start from this checkpoint (e.g. a Qwen2 model; a missing score head is initialised fresh).", HelpName = "DIR" };
    private readonly Option<string?> _tokenizer = CommonOptions.Tokenizer("the tokenizer files in --init, else byte; copied into --out");
    private readonly Option<int?> _maxLength = CommonOptions.MaxLength($"{ModelInputs.DefaultMaxLength} (at most the model's max_position_embeddings)");
    private readonly Option<string?> _eval = new("--eval") { Description = "Evaluation data (file or directory), evaluated at the end and every --eval-every steps.", HelpName = "FILE|DIR" };
    private readonly Option<double?> _evalFraction = new Option<double?>("--eval-fraction") { Description = "Hold out this fraction of the training data for evaluation (chosen by --seed).", HelpName = "F" }
        .Must(v => v > 0 && v < 1, "between 0 and 1 (exclusive)");
    private readonly Option<long> _evalEvery = new Option<long>("--eval-every") { Description = "Evaluate every this many steps (0: only at the end).", DefaultValueFactory = _ => 0, HelpName = "N" }.AtLeast(0);
    private readonly Option<long?> _steps = new Option<long?>("--steps") { Description = "Optimizer steps of the whole run (a resumed run continues up to it). Default: one epoch.", HelpName = "N" }.AtLeast(1);
    private readonly Option<int> _batch = CommonOptions.Batch("Pairs per micro-batch.", Recipe.PairsPerMicroBatch);
    private readonly Option<int?> _maxTokens = CommonOptions.MaxTokensPerBatch("micro-batch of pairs (per rank under mpirun)");
    private readonly Option<bool> _noPacking = CommonOptions.NoPacking();
    private readonly Option<int> _accumulation = new Option<int>("--accumulation") { Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => Recipe.AccumulationSteps, HelpName = "N" }.AtLeast(1);
    private readonly Option<double?> _lr = new Option<double?>("--lr") { Description = $"Peak learning rate. Default: {Recipe.LearningRate:G2} (WorldPM recipe) with --init; {TrainCommand.ScratchLearningRate:G2} for a new model trained from scratch, which the recipe's rate would barely move.", HelpName = "LR" }
        .Must(v => v is double x && x > 0 && double.IsFinite(x), "a positive number");
    private readonly Option<double> _weightDecay = new Option<double>("--weight-decay") { Description = "Decoupled weight decay (not on norms and biases).", DefaultValueFactory = _ => Recipe.WeightDecay, HelpName = "WD" }
        .Must(v => v >= 0 && double.IsFinite(v), "0 or more");
    private readonly Option<double> _warmup = new Option<double>("--warmup") { Description = "Fraction of the steps spent warming up.", DefaultValueFactory = _ => Recipe.WarmupFraction, HelpName = "F" }
        .InRange(0, 1, "between 0 and 1");
    private readonly Option<DecayKind> _schedule = new("--schedule") { Description = "Learning rate after warmup: constant (WorldPM recipe) or cosine.", DefaultValueFactory = _ => Recipe.Decay, HelpName = "constant|cosine" };
    private readonly Option<double> _maxGradNorm = new Option<double>("--max-grad-norm") { Description = "Clip the global gradient norm to this (0: no clipping).", DefaultValueFactory = _ => Recipe.MaxGradNorm, HelpName = "N" }
        .Must(v => v >= 0 && double.IsFinite(v), "0 or more");
    private readonly Option<int> _seed = new("--seed") { Description = "Seed of the weights, the data order and --eval-fraction.", DefaultValueFactory = _ => Recipe.Seed, HelpName = "N" };
    private readonly Option<long> _checkpointEvery = new Option<long>("--checkpoint-every") { Description = "Save a checkpoint every this many steps (0: only at the end).", DefaultValueFactory = _ => 0, HelpName = "N" }.AtLeast(0);
    private readonly Option<int> _keep = new Option<int>("--keep") { Description = "Checkpoints to keep, newest first (0: all).", DefaultValueFactory = _ => new TrainingRunOptions().KeepLast, HelpName = "N" }.AtLeast(0);
    private readonly Option<long> _maxShardSize = new("--max-shard-size") { Description = "Largest checkpoint weights file; bigger weights are split into shards with a model.safetensors.index.json, as Hugging Face does. A size such as 5GB, 500MB or 2GiB.", DefaultValueFactory = _ => ModelCheckpoint.DefaultMaxShardBytes, HelpName = "SIZE", CustomParser = r => ParseMaxShardSize(r) };
    private readonly Option<bool> _resumeAnyway = new("--resume-anyway") { Description = "With --resume: continue even when the data or the batch shape (--batch, --max-tokens-per-batch, --accumulation) differ from the checkpoint's (refused by default)." };
    private readonly Option<bool> _resume = new("--resume") { Description = "Continue the run in --out from its latest checkpoint (weights, optimizer, data position; same --seed), if it has one." };
    private readonly Option<string?> _metrics = new("--metrics") { Description = "Write JSONL metrics here: one object per step (step, loss, accuracy, margin, grad_norm, lr, tokens_per_s, seconds) and per evaluation; appended on --resume.", HelpName = "FILE" };
    private readonly Option<int> _logEvery = new Option<int>("--log-every") { Description = "Print a progress line every this many steps (and the first and last).", DefaultValueFactory = _ => 10, HelpName = "N" }.AtLeast(1);
    private readonly Option<bool> _quiet = new("--quiet") { Description = "Print only the final checkpoint path (and errors)." };
    private readonly Option<ScoringToken?> _scoringToken = new("--scoring-token") { Description = "The token the head reads: endoftext (appended <|endoftext|>, the default) or im_end (the response's closing <|im_end|>). Saved in config.json; eval and score follow it.", HelpName = "endoftext|im_end", CustomParser = r => ParseScoringToken(r) };
    private readonly Option<Precision> _precision = new("--precision") { Description = "Storage of weights, activations and gradients: f32, or f16/bf16 with fp32 master weights and optimizer state (f16 adds a dynamic loss scaler).", DefaultValueFactory = _ => Precision.F32, HelpName = "f32|f16|bf16" };
    private readonly Option<double> _commTimeout = new Option<double>("--comm-timeout") { Description = "Under mpirun: how long a rank waits for the others in a collective before it exits with an error naming the silent ranks.", DefaultValueFactory = _ => Communicator.DefaultTimeout.TotalSeconds, HelpName = "SECONDS" }.InRange(1e-3, 86400, "between 0.001 and 86400 seconds");
    private readonly Option<double> _adamEpsilon = new Option<double>("--adam-epsilon") { Description = "AdamW's epsilon (added to the root of the second moment).", DefaultValueFactory = _ => new TrainingOptions().Epsilon, HelpName = "EPS" }
        .InRange(1e-30, 1, "between 1e-30 and 1");
    private readonly Option<bool> _zero1 = new("--zero1") { Description = "Under mpirun: ZeRO-1, each rank keeps the AdamW moments of 1/N of the parameters (gradients reduce-scattered, weights all-gathered); the same weights as without it. With one process it changes nothing." };
    private readonly LossOptions _losses = new("training", PreferenceLosses.BradleyTerryName);
    private readonly Option<CudaGraphs> _cudaGraphs = CommonOptions.CudaGraphs(" In train: each optimizer step too (every " +
        "micro-batch's forward and backward, the gradient check, AdamW), recorded at the second step of a shape and " +
        "replayed while the shapes repeat (fp16: per loss scale; under mpirun with its collectives); not with a host-side " +
        "loss, where auto runs it eagerly and on is refused.");
    private readonly Option<bool> _recompute = new("--recompute") { Description = "Keep only each layer's input in the forward and recompute the layer before its backward: activations hold one layer's intermediates instead of every layer's, for about one more forward per step; results are bitwise the same." };

    public IEnumerable<Argument> Arguments => [_data];

    public IEnumerable<Option> Options =>
    [
        _out, _config, _init, _tokenizer, _maxLength, _eval, _evalFraction, _evalEvery, _steps, _batch, _maxTokens, _noPacking, _accumulation, _lr,
        _weightDecay, _warmup, _schedule, _maxGradNorm, _seed, _checkpointEvery, _keep, _maxShardSize, _resume, _resumeAnyway, _metrics, _logEvery, _quiet,
        _precision, _recompute, _scoringToken, _commTimeout, _adamEpsilon, _zero1, _cudaGraphs, .. _losses.All, .. _loading.All,
    ];

    public TrainArguments Read(ParseResult r)
    {
        LossChoice loss = _losses.Read(r);
        return new(
            r.GetValue(_data)!, r.GetValue(_out)!, r.GetValue(_config), r.GetValue(_init), r.GetValue(_tokenizer), r.GetValue(_maxLength),
            r.GetValue(_eval), r.GetValue(_evalFraction), r.GetValue(_evalEvery), r.GetValue(_steps), r.GetValue(_batch), r.GetValue(_accumulation),
            r.GetValue(_lr), r.GetValue(_weightDecay), r.GetValue(_warmup), r.GetValue(_schedule), r.GetValue(_maxGradNorm), r.GetValue(_seed),
            r.GetValue(_checkpointEvery), r.GetValue(_keep), r.GetValue(_maxShardSize), r.GetValue(_resume), r.GetValue(_resumeAnyway), _loading.Read(r) with { MarginFrom = loss.MarginFrom }, r.GetValue(_metrics), r.GetValue(_logEvery),
            r.GetValue(_quiet), r.GetValue(_precision), r.GetValue(_scoringToken), r.GetValue(_recompute), r.GetValue(_commTimeout), r.GetValue(_adamEpsilon),
            r.GetValue(_zero1), loss.Loss!, loss.MarginFrom, loss.LabelSmoothing, r.GetValue(_maxTokens), r.GetValue(_noPacking),
            r.GetValue(_cudaGraphs));
    }

    private static long ParseMaxShardSize(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (ByteSizeText.TryParse(text, out long bytes)) return bytes;
        result.AddError($"--max-shard-size is '{text}'; it must be a size of at least one byte, such as 5GB, 500MB or 2GiB (a plain number is bytes).");
        return 0;
    }

    /// <summary>endoftext or im_end (--scoring-token), else a parse error naming the option.</summary>
    internal static ScoringToken? ParseScoringToken(System.CommandLine.Parsing.ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        switch (text)
        {
            case "endoftext": return ScoringToken.EndOfText;
            case "im_end": return ScoringToken.ImEnd;
            default:
                result.AddError($"--scoring-token is '{text}'; it must be endoftext or im_end.");
                return null;
        }
    }
}
