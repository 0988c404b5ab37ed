namespace WorldPM.Tokenization;

/// <summary>
/// Fits rendered conversations into a maximum length, cutting the prompt before the response and
/// never the scoring token. The order, for one prompt shared by one or more responses:
/// <list type="number">
/// <item>The prompt is cut once, for the longest response, so every response of a pair is judged
/// against the same context. Turns after the system turn go oldest first: a turn is dropped whole
/// when the excess covers it or more than its content; otherwise its content loses its oldest tokens
/// while its <c>&lt;|im_start|&gt;role</c> header and <c>&lt;|im_end|&gt;\n</c> footer stay. The system
/// turn (empty unless the data gives one) is kept: it is the frame the template always starts with.</item>
/// <item>Each response that still does not fit loses tokens from its end; its header and its footer
/// (<c>&lt;|im_end|&gt;</c>, the newline, the scoring token) stay.</item>
/// <item>If the system turn plus an empty response still exceed the limit (a limit of a handful of
/// tokens), the sequence keeps only its last tokens, which still end with the scoring token.</item>
/// </list>
/// </summary>
internal static class PromptFirstTruncation
{
    public static EncodedSequence[] Fit(IReadOnlyList<TemplateBlock> prompt, IReadOnlyList<TemplateBlock> responses, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        int longest = responses.Max(r => r.Length);
        var kept = TruncatePrompt(prompt, prompt.Sum(b => b.Length) + longest - maxLength, out bool promptTruncated);
        int[] promptIds = kept.SelectMany(b => b.Ids).ToArray();
        return responses.Select(r => FitResponse(promptIds, r, maxLength, promptTruncated)).ToArray();
    }

    private static List<TemplateBlock> TruncatePrompt(IReadOnlyList<TemplateBlock> prompt, int excess, out bool truncated)
    {
        var kept = prompt.ToList();
        truncated = false;
        // Block 0 is the system turn, kept; the conversation turns after it go oldest first.
        while (excess > 0 && kept.Count > 1)
        {
            var oldest = kept[1];
            truncated = true;
            if (excess > oldest.ContentLength)
            {
                kept.RemoveAt(1);
                excess -= oldest.Length;
            }
            else
            {
                kept[1] = oldest.TrimContentStart(excess);
                excess = 0;
            }
        }
        return kept;
    }

    private static EncodedSequence FitResponse(int[] promptIds, TemplateBlock response, int maxLength, bool promptTruncated)
    {
        int over = promptIds.Length + response.Length - maxLength;
        bool responseTruncated = over > 0 && response.ContentLength > 0;
        if (responseTruncated)
            response = response.TrimContentEnd(Math.Min(over, response.ContentLength));
        int[] ids = [.. promptIds, .. response.Ids];
        if (ids.Length > maxLength)
            return new EncodedSequence(ids[^maxLength..], PromptTruncated: true, ResponseTruncated: ids.Length - maxLength > promptIds.Length || responseTruncated);
        return new EncodedSequence(ids, promptTruncated, responseTruncated);
    }
}
