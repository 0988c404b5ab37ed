using WorldPM.Data;
using WorldPM.Tokenization;

namespace WorldPM.Explain;

/// <summary>
/// A prompt and a response rendered by the <see cref="ChatTemplate"/> as the model scores them, with every token
/// mapped back to the text it came from: what attributions are reported over. The sequence is never truncated (an
/// attribution of a cut text would explain a different input), so it must fit the model's positions.
/// <see cref="BaselineIds"/> is the same sequence with every prompt and response token replaced by
/// <see cref="BaselineId"/>, the tokenizer's id of one space, and the template's tokens kept: the "blank" input of
/// the same length that integrated gradients start from and that Shapley sampling masks words with.
/// </summary>
public sealed class ExplainedSequence
{
    private ExplainedSequence(IReadOnlyList<ChatTurn> prompt, string response, List<ExplainedToken> tokens,
        List<ExplainedWord> words, int baselineId)
    {
        Prompt = prompt;
        Response = response;
        Tokens = tokens;
        Words = words;
        BaselineId = baselineId;
        Ids = [.. tokens.Select(t => t.Id)];
        BaselineIds = [.. tokens.Select(t => t.Part == SequencePart.Template ? t.Id : baselineId)];
    }

    /// <summary>The prompt turns as given.</summary>
    public IReadOnlyList<ChatTurn> Prompt { get; }

    /// <summary>The response as given.</summary>
    public string Response { get; }

    /// <summary>Every token, in order; the last is the scoring token.</summary>
    public IReadOnlyList<ExplainedToken> Tokens { get; }

    /// <summary>The words of the prompt turns, then of the response.</summary>
    public IReadOnlyList<ExplainedWord> Words { get; }

    /// <summary>The ids the model scores.</summary>
    public int[] Ids { get; }

    /// <summary>The id of a space, which stands in for every prompt and response token of the baseline.</summary>
    public int BaselineId { get; }

    /// <summary><see cref="Ids"/> with every prompt and response token replaced by <see cref="BaselineId"/>.</summary>
    public int[] BaselineIds { get; }

    /// <summary>The text of a part: the response, or prompt turn <paramref name="turn"/>'s content.</summary>
    public string TextOf(SequencePart part, int turn) => part switch
    {
        SequencePart.Response => Response,
        SequencePart.Prompt => Prompt[turn].Content,
        _ => "",
    };

    /// <summary>
    /// <see cref="Ids"/> with the tokens of the words not in <paramref name="present"/> replaced by
    /// <see cref="BaselineId"/> (the masking rule of <see cref="ShapleySampling"/>: positions never move).
    /// </summary>
    public int[] WithWordsMasked(IReadOnlyList<bool> present)
    {
        int[] ids = (int[])Ids.Clone();
        for (int w = 0; w < Words.Count; w++)
            if (!present[w])
                foreach (int position in Words[w].Positions) ids[position] = BaselineId;
        return ids;
    }

    /// <summary>Renders <paramref name="prompt"/> and <paramref name="response"/> with <paramref name="template"/>.</summary>
    /// <exception cref="ArgumentException">The response is empty, or the rendered sequence has more than
    /// <paramref name="maxLength"/> tokens.</exception>
    public static ExplainedSequence Build(ChatTemplate template, IReadOnlyList<ChatTurn> prompt, string response, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(response);
        if (string.IsNullOrWhiteSpace(response))
            throw new ArgumentException("the response is empty; there is nothing to attribute", nameof(response));
        ITokenizer tokenizer = template.Tokenizer;
        int[] space = tokenizer.Encode(" ");
        var tokens = new List<ExplainedToken>();
        var words = new List<ExplainedWord>();
        List<TemplateBlock> promptBlocks = template.EncodePrompt(prompt);
        // The template adds an empty system turn in front of a prompt that has none.
        int firstTurnBlock = promptBlocks.Count - prompt.Count;
        for (int b = 0; b < promptBlocks.Count; b++)
        {
            int turn = b - firstTurnBlock;
            if (turn < 0)
                AddBlock(tokens, words, tokenizer, promptBlocks[b], "system", "", SequencePart.Template, 0);
            else
                AddBlock(tokens, words, tokenizer, promptBlocks[b], ChatTemplate.RoleName(prompt[turn].Role), prompt[turn].Content,
                    SequencePart.Prompt, turn);
        }
        AddBlock(tokens, words, tokenizer, template.EncodeResponse(response), "assistant", response, SequencePart.Response, 0);
        if (tokens.Count > maxLength)
            throw new ArgumentException($"the prompt and response render to {tokens.Count} tokens; the model takes at most " +
                $"{maxLength}: shorten them", nameof(response));
        return new ExplainedSequence(prompt, response, tokens, words, space[0]);
    }

    /// <summary>Adds one template block's tokens: header and footer as template, the content mapped onto
    /// <paramref name="content"/> (its words added to <paramref name="words"/>).</summary>
    private static void AddBlock(List<ExplainedToken> tokens, List<ExplainedWord> words, ITokenizer tokenizer, TemplateBlock block,
        string role, string content, SequencePart part, int turn)
    {
        int contentStart = block.HeaderLength, contentEnd = block.Length - block.FooterLength;
        for (int i = 0; i < contentStart; i++) tokens.Add(TemplateToken(tokenizer, block.Ids[i]));
        if (part != SequencePart.Template && contentEnd > contentStart)
        {
            // The role line and the content were encoded as one text (see TemplateBlock); offsets into that text
            // minus the role line's length are offsets into the content.
            string prefix = role + "\n";
            int[] boundaries = Boundaries(tokenizer, block.Ids.AsSpan(1, contentEnd - 1), prefix + content);
            List<(int Start, int End)> wordSpans = WordSpans(content);
            int firstWord = words.Count;
            var positions = wordSpans.Select(_ => new List<int>()).ToList();
            for (int i = contentStart; i < contentEnd; i++)
            {
                // Block id i is ids[i - 1] of the boundaries, which hold where each token ends.
                int start = Math.Clamp((i >= 2 ? boundaries[i - 2] : 0) - prefix.Length, 0, content.Length);
                int end = Math.Clamp(boundaries[i - 1] - prefix.Length, start, content.Length);
                int word = WordAt(content, wordSpans, start, end);
                if (word >= 0) positions[word].Add(tokens.Count);
                tokens.Add(new ExplainedToken(block.Ids[i], part, turn, start, end, word < 0 ? -1 : firstWord + word, content[start..end]));
            }
            for (int w = 0; w < wordSpans.Count; w++)
            {
                (int start, int end) = wordSpans[w];
                words.Add(new ExplainedWord(part, turn, start, end, content[start..end], positions[w]));
            }
        }
        else
        {
            for (int i = contentStart; i < contentEnd; i++) tokens.Add(TemplateToken(tokenizer, block.Ids[i]));
        }
        for (int i = contentEnd; i < block.Length; i++) tokens.Add(TemplateToken(tokenizer, block.Ids[i]));
    }

    private static ExplainedToken TemplateToken(ITokenizer tokenizer, int id) =>
        new(id, SequencePart.Template, 0, 0, 0, -1, tokenizer.Decode([id]));

    /// <summary>
    /// boundaries[k]: how many characters of <paramref name="text"/> the first k + 1 ids decode to (token k ends
    /// there). A prefix that ends inside a character decodes to a replacement character, not a prefix of the text;
    /// such a token keeps the previous boundary (an empty span) and the token completing the character takes it.
    /// </summary>
    private static int[] Boundaries(ITokenizer tokenizer, ReadOnlySpan<int> ids, string text)
    {
        var boundaries = new int[ids.Length];
        int last = 0;
        for (int k = 0; k < ids.Length; k++)
        {
            string decoded = tokenizer.Decode(ids[..(k + 1)]);
            if (decoded.Length <= text.Length && text.StartsWith(decoded, StringComparison.Ordinal)) last = decoded.Length;
            boundaries[k] = last;
        }
        if (ids.Length > 0) boundaries[^1] = text.Length;
        return boundaries;
    }

    private static List<(int Start, int End)> WordSpans(string text)
    {
        var spans = new List<(int, int)>();
        for (int i = 0; i < text.Length;)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            int start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            spans.Add((start, i));
        }
        return spans;
    }

    /// <summary>The word holding the first non-whitespace character of [start, end) (for an empty span, the character
    /// at start, which the token helps to form), or -1.</summary>
    private static int WordAt(string text, List<(int Start, int End)> words, int start, int end)
    {
        int at = start;
        while (at < end && char.IsWhiteSpace(text[at])) at++;
        if (at == end && end > start) return -1;
        if (at >= text.Length) return -1;
        return words.FindIndex(w => w.Start <= at && at < w.End);
    }
}
