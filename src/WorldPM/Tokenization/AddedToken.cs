namespace WorldPM.Tokenization;

/// <summary>
/// A token added on top of the BPE vocabulary (Hugging Face <c>added_tokens</c>): always one id,
/// never split. <see cref="Special"/> tokens (<c>&lt;|im_end|&gt;</c>) are matched in text only when
/// asked; non-special ones (Qwen's <c>&lt;tool_call&gt;</c>, <c>&lt;think&gt;</c>) are ordinary words
/// and always matched, as the Hugging Face tokenizers do.
/// </summary>
public sealed record AddedToken(string Content, int Id, bool Special);
