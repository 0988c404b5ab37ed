namespace WorldPM.Evaluation;

/// <summary>
/// One style feature of a response and how the style report buckets a pair's chosen-minus-rejected difference in it:
/// lengths by the relative difference (c - r) / max(c, r), so that buckets mean the same on short and long data;
/// counts by the difference itself.
/// </summary>
public sealed record StyleFeature(string Name, Func<StyleCounts, int, int> Measure, bool Relative)
{
    /// <summary>The features in report order. "tokens" is the response's untruncated token count (the one the
    /// length-bias split uses); the others are <see cref="StyleCounts"/>.</summary>
    public static IReadOnlyList<StyleFeature> All { get; } =
    [
        new("tokens", (_, tokens) => tokens, true),
        new("characters", (c, _) => c.Characters, true),
        new("headers", (c, _) => c.Headers, false),
        new("list_items", (c, _) => c.ListItems, false),
        new("bold", (c, _) => c.Bold, false),
        new("italic", (c, _) => c.Italic, false),
        new("code_blocks", (c, _) => c.CodeBlocks, false),
        new("links", (c, _) => c.Links, false),
        new("emoji", (c, _) => c.Emoji, false),
    ];

    /// <summary>The bucket labels, in order.</summary>
    public IReadOnlyList<string> Buckets => Relative
        ? ["<= -50%", "-50%..-10%", "-10%..+10%", "+10%..+50%", ">= +50%"]
        : ["<= -2", "-1", "0", "+1", ">= +2"];

    /// <summary>The index into <see cref="Buckets"/> of a pair whose chosen response has <paramref name="chosen"/> and
    /// the rejected one <paramref name="rejected"/> (relative: -50 % and +50 % fall in the outer buckets, -10 % and
    /// +10 % in the middle one).</summary>
    public int BucketOf(int chosen, int rejected)
    {
        int difference = chosen - rejected;
        if (!Relative) return Math.Clamp(difference, -2, 2) + 2;
        double relative = difference == 0 ? 0 : (double)difference / Math.Max(chosen, rejected);
        return relative <= -0.5 ? 0 : relative < -0.1 ? 1 : relative <= 0.1 ? 2 : relative < 0.5 ? 3 : 4;
    }
}
