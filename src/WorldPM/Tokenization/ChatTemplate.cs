using System.Text;
using WorldPM.Data;

namespace WorldPM.Tokenization;

/// <summary>
/// The Qwen2.5 chat template, rendered straight to ids for a prompt (the conversation so far) and one
/// response to score:
/// <code>
/// &lt;|im_start|&gt;system\n{system}&lt;|im_end|&gt;\n          (empty system turn when the prompt has none)
/// &lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n          (each prompt turn)
/// &lt;|im_start|&gt;assistant\n{response}&lt;|im_end|&gt;\n&lt;|endoftext|&gt;   (ScoringToken.EndOfText)
/// &lt;|im_start|&gt;assistant\n{response}&lt;|im_end|&gt;             (ScoringToken.ImEnd)
/// </code>
/// A leading <see cref="ChatRole.System"/> turn of the prompt becomes the system turn. Special-token
/// text inside contents stays text (it cannot forge the structure); otherwise the ids equal the
/// Hugging Face tokenizer's ids for <see cref="RenderText"/>. The last id is always the scoring token.
/// </summary>
public sealed class ChatTemplate
{
    private readonly int[] _newline;

    /// <summary>A template over <paramref name="tokenizer"/> scored at <paramref name="scoringToken"/>.</summary>
    public ChatTemplate(ITokenizer tokenizer, ScoringToken scoringToken = ScoringToken.EndOfText)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Tokenizer = tokenizer;
        ScoringToken = scoringToken;
        _newline = tokenizer.Encode("\n");
    }

    /// <summary>The tokenizer the template encodes with.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>Which token is scored.</summary>
    public ScoringToken ScoringToken { get; }

    /// <summary>The id every rendered sequence ends with.</summary>
    public int ScoringTokenId => ScoringToken == ScoringToken.EndOfText ? Tokenizer.EndOfTextId : Tokenizer.ImEndId;

    /// <summary>The role's name in the template: <c>system</c>, <c>user</c>, <c>assistant</c>.</summary>
    public static string RoleName(ChatRole role) => role switch
    {
        ChatRole.System => "system",
        ChatRole.User => "user",
        ChatRole.Assistant => "assistant",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown chat role."),
    };

    /// <summary>The template as text, special tokens written out; what <see cref="Encode"/> encodes.</summary>
    public string RenderText(IReadOnlyList<ChatTurn> prompt, string response)
    {
        var text = new StringBuilder();
        foreach (var (role, content) in Turns(prompt))
            text.Append(SpecialTokens.ImStart).Append(role).Append('\n').Append(content).Append(SpecialTokens.ImEnd).Append('\n');
        text.Append(SpecialTokens.ImStart).Append("assistant\n").Append(response).Append(SpecialTokens.ImEnd);
        if (ScoringToken == ScoringToken.EndOfText)
            text.Append('\n').Append(SpecialTokens.EndOfText);
        return text.ToString();
    }

    /// <summary>
    /// Renders one (prompt, response) to ids, cut to <paramref name="maxLength"/> as
    /// <see cref="PromptFirstTruncation"/> describes: prompt first, oldest tokens first, scoring token kept.
    /// </summary>
    public EncodedSequence Encode(IReadOnlyList<ChatTurn> prompt, string response, int maxLength = int.MaxValue) =>
        PromptFirstTruncation.Fit(EncodePrompt(prompt), [EncodeResponse(response)], maxLength)[0];

    /// <summary>
    /// Renders both responses of a pair against the same prompt. The prompt is cut once, for the longer
    /// response, so both are scored against the same context.
    /// </summary>
    public TokenizedPair EncodePair(IReadOnlyList<ChatTurn> prompt, string chosen, string rejected, int maxLength = int.MaxValue)
    {
        TemplateBlock chosenBlock = EncodeResponse(chosen), rejectedBlock = EncodeResponse(rejected);
        var sequences = PromptFirstTruncation.Fit(EncodePrompt(prompt), [chosenBlock, rejectedBlock], maxLength);
        (EncodedSequence c, EncodedSequence r) = (sequences[0], sequences[1]);
        return new TokenizedPair(c.Ids, r.Ids)
        {
            PromptTruncated = c.PromptTruncated || r.PromptTruncated,
            ResponseTruncated = c.ResponseTruncated || r.ResponseTruncated,
            ChosenResponseTokens = chosenBlock.ContentLength,
            RejectedResponseTokens = rejectedBlock.ContentLength,
        };
    }

    internal List<TemplateBlock> EncodePrompt(IReadOnlyList<ChatTurn> prompt) =>
        Turns(prompt).Select(turn => EncodeBlock(turn.Role, turn.Content, [Tokenizer.ImEndId, .. _newline])).ToList();

    internal TemplateBlock EncodeResponse(string response) =>
        EncodeBlock("assistant", response, ScoringToken == ScoringToken.EndOfText
            ? [Tokenizer.ImEndId, .. _newline, Tokenizer.EndOfTextId]
            : [Tokenizer.ImEndId]);

    private static IEnumerable<(string Role, string Content)> Turns(IReadOnlyList<ChatTurn> prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        bool hasSystem = prompt.Count > 0 && prompt[0].Role == ChatRole.System;
        if (!hasSystem)
            yield return ("system", "");
        foreach (var turn in prompt)
            yield return (RoleName(turn.Role), turn.Content);
    }

    private TemplateBlock EncodeBlock(string role, string content, int[] footer)
    {
        int[] header = Tokenizer.Encode(role + "\n");
        int[] body = Tokenizer.Encode(role + "\n" + content);
        int shared = 0;
        while (shared < header.Length && shared < body.Length && header[shared] == body[shared])
            shared++;
        return new TemplateBlock([Tokenizer.ImStartId, .. body, .. footer], 1 + shared, footer.Length);
    }
}
