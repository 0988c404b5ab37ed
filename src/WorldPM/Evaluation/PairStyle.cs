using WorldPM.Data;

namespace WorldPM.Evaluation;

/// <summary>The <see cref="StyleCounts"/> of a pair's two responses: what the style report reads of the text, counted
/// once when the pair is prepared and kept in its token store (docs/token-store.md), so the report needs no text.</summary>
public sealed record PairStyle(StyleCounts Chosen, StyleCounts Rejected)
{
    /// <summary>Counts both responses of <paramref name="pair"/>, whole (before any truncation).</summary>
    public static PairStyle Of(PreferencePair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return new PairStyle(StyleCounts.Of(pair.Chosen), StyleCounts.Of(pair.Rejected));
    }
}
