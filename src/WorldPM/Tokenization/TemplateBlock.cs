namespace WorldPM.Tokenization;

/// <summary>
/// One turn of the chat template as ids: a header (<c>&lt;|im_start|&gt;</c> and the role line), the
/// content, and a footer (<c>&lt;|im_end|&gt;</c>, the newline, and for the response the scoring
/// token). Truncation removes content only and keeps header and footer whole.
/// </summary>
/// <remarks>
/// The role line and the content are encoded as ONE text, as the Hugging Face tokenizer encodes a
/// rendered template, so untruncated ids match the reference exactly. The header is the longest prefix
/// the combined ids share with the role line encoded alone; when the content starts with a newline that
/// merges with the role line's, that merged token counts as content.
/// </remarks>
internal readonly record struct TemplateBlock(int[] Ids, int HeaderLength, int FooterLength)
{
    public int Length => Ids.Length;

    public int ContentLength => Ids.Length - HeaderLength - FooterLength;

    /// <summary>The block without the first <paramref name="count"/> content tokens (the oldest text).</summary>
    public TemplateBlock TrimContentStart(int count) =>
        new([.. Ids.AsSpan(0, HeaderLength), .. Ids.AsSpan(HeaderLength + count)], HeaderLength, FooterLength);

    /// <summary>The block without the last <paramref name="count"/> content tokens.</summary>
    public TemplateBlock TrimContentEnd(int count) =>
        new([.. Ids.AsSpan(0, Ids.Length - FooterLength - count), .. Ids.AsSpan(Ids.Length - FooterLength)], HeaderLength, FooterLength);
}
