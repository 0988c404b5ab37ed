using System.CommandLine;
using WorldPM.Model;

namespace WorldPM.Cli;

/// <summary>Options several commands share, built once per command (an option belongs to one command).</summary>
internal static class CommonOptions
{
    public static Option<string?> Tokenizer(string fallback) => new("--tokenizer")
    {
        Description = "\"byte\" (the built-in byte tokenizer), a tokenizer.json, or a directory holding tokenizer.json or " +
            $"vocab.json + merges.txt (+ tokenizer_config.json). Default: {fallback}.",
        HelpName = "byte|PATH",
    };

    public static Option<int?> MaxLength(string fallback) => new Option<int?>("--max-length")
    {
        Description = $"Most tokens per sequence (prompt cut first, oldest tokens first). Default: {fallback}.",
        HelpName = "N",
    }.AtLeast(8);

    /// <summary>The most items one --batch may hold: far beyond what fits a step's memory, and small enough that the
    /// per-batch arrays (items x sequence length) stay within .NET's array limits, so a huge value is a usage error
    /// naming the option instead of an allocation failure.</summary>
    public const int MaxBatch = 1 << 16;

    public static Option<int> Batch(string description, int fallback) => new Option<int>("--batch")
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        HelpName = "N",
    }.Must(v => v is >= 1 and <= MaxBatch, $"between 1 and {MaxBatch}");

    /// <summary>--cuda-graphs: <see cref="RewardModel.CudaGraphs"/> for the scoring forward.</summary>
    public static Option<CudaGraphs> CudaGraphs(string scope = "") => new("--cuda-graphs")
    {
        Description = "Record the scoring forward into a device graph once per batch shape and replay it: auto (on cuda only), " +
            "on (cuda or emu; an error on cpu) or off. A recorded packed batch is rounded up to its length bucket (less than " +
            "1/8 more token rows, filled with unscored tokens) so that batches of nearby lengths share a recording." + scope,
        DefaultValueFactory = _ => Model.CudaGraphs.Auto,
        HelpName = "auto|on|off",
    };

    /// <summary>The largest token budget --max-tokens-per-batch takes: a batch's ids and positions are .NET arrays.</summary>
    public const int MaxTokensPerBatchLimit = 1 << 26;

    /// <summary>--max-tokens-per-batch: a token budget per batch instead of --batch's count (<see cref="Model.BatchSizing"/>).</summary>
    public static Option<int?> MaxTokensPerBatch(string what) => new Option<int?>("--max-tokens-per-batch")
    {
        Description = $"Build each {what} as the consecutive {(what.Contains("pair", StringComparison.Ordinal) ? "pairs" : "sequences")} " +
            "that fit this many token rows (packed: real tokens; --no-packing: sequences x the longest) instead of --batch's " +
            "count; pairs stay whole, and one longer than the budget alone is an error. Default: batches of --batch.",
        HelpName = "N",
    }.Must(v => v is >= 1 and <= MaxTokensPerBatchLimit, $"between 1 and {MaxTokensPerBatchLimit}");

    /// <summary>--no-packing: the padded layout instead of the packed default.</summary>
    public static Option<bool> NoPacking() => new("--no-packing")
    {
        Description = "Pad each batch's sequences to its longest instead of packing them end to end (the default, where " +
            "padding costs nothing): the same results up to rounding, for comparison.",
    };

    /// <summary>The layout the --no-packing flag asks for.</summary>
    public static Model.SequenceLayout Layout(bool noPacking) => noPacking ? Model.SequenceLayout.Padded : Model.SequenceLayout.Packed;

    public static Argument<string[]> DataFiles(string description) => new("DATA")
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
    };

    public static Option<bool> AllowNonFinite() => new("--allow-nonfinite")
    {
        Description = "Load a checkpoint even when its weights hold NaN or infinity (refused by default: such a model cannot give finite rewards).",
    };

    public static Argument<string> ModelDirectory() => new("MODEL_DIR")
    {
        Description = "A checkpoint directory (config.json + model.safetensors), or a `worldpm train --out` run directory (its latest checkpoint).",
    };
}
