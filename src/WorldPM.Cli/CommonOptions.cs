using System.CommandLine;

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

    public static Option<int> Batch(string description, int fallback) => new Option<int>("--batch")
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        HelpName = "N",
    }.AtLeast(1);

    public static Argument<string[]> DataFiles(string description) => new("DATA")
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
    };

    public static Argument<string> ModelDirectory() => new("MODEL_DIR")
    {
        Description = "A checkpoint directory (config.json + model.safetensors), or a `worldpm train --out` run directory (its latest checkpoint).",
    };
}
