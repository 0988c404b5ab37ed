using System.Collections;
using WorldPM.Tokenization;

namespace WorldPM.Data;

/// <summary>
/// Some pairs of a list, by index, as a list of their own: a held-out split of a token store reads its pairs in place
/// instead of copying them, so it costs an index per pair, not the pairs.
/// </summary>
public sealed class PairSubset : IReadOnlyList<TokenizedPair>
{
    private readonly IReadOnlyList<TokenizedPair> _pairs;
    private readonly int[] _indices;

    /// <summary>The pairs of <paramref name="pairs"/> at <paramref name="indices"/>, in that order.</summary>
    public PairSubset(IReadOnlyList<TokenizedPair> pairs, int[] indices)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(indices);
        foreach (int index in indices)
            if ((uint)index >= (uint)pairs.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"not an index of the {pairs.Count} pairs");
        (_pairs, _indices) = (pairs, indices);
    }

    /// <summary>The indices into the whole list, in this list's order.</summary>
    public IReadOnlyList<int> Indices => _indices;

    public int Count => _indices.Length;

    public TokenizedPair this[int index] => _pairs[_indices[index]];

    public IEnumerator<TokenizedPair> GetEnumerator()
    {
        foreach (int index in _indices) yield return _pairs[index];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
