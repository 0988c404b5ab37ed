using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace WorldPM.Tokenization;

/// <summary>
/// Qwen2's pre-tokenizer: the <c>Split</c> regex of its <c>tokenizer.json</c> (contractions, letter
/// runs with one leading non-letter, single digits, punctuation runs, newline runs, whitespace),
/// before byte-level BPE runs on each piece.
/// </summary>
internal static partial class QwenPreTokenizer
{
    /// <summary>The pattern exactly as Qwen2 / Qwen2.5 / Qwen3 ship it.</summary>
    public const string Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex SplitRegex();

    /// <summary>A new pre-tokenizer for <see cref="BpeTokenizer"/>.</summary>
    public static PreTokenizer Create() => new RegexPreTokenizer(SplitRegex(), specialTokens: null);
}
