namespace WorldPM.Tokenization;

/// <summary>The texts of the special tokens the Qwen2.5 chat template is made of.</summary>
public static class SpecialTokens
{
    /// <summary>End of a document; WorldPM's default scoring token.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>Opens a chat turn: <c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>.</summary>
    public const string ImStart = "<|im_start|>";

    /// <summary>Closes a chat turn.</summary>
    public const string ImEnd = "<|im_end|>";
}
