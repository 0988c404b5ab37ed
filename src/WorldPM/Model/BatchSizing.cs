namespace WorldPM.Model;

/// <summary>
/// How a run of items (preference pairs, or sequences to score) is cut into consecutive batches and laid out: a
/// fixed <see cref="ItemsPerBatch"/>, or, with <see cref="MaxTokensPerBatch"/>, as many items as fit a budget of token
/// rows, the rows the model runs (packed: the real tokens; padded: sequences times the longest). An item never splits
/// (a pair's two sequences stay in one batch), and an item that alone needs more rows than the budget is an error
/// naming it rather than a batch of its own: the budget is what bounds the activations' memory, so no batch may break
/// it. Packed (<see cref="SequenceLayout.Packed"/>) by default: padding costs a full token of work and memory.
/// </summary>
public sealed record BatchSizing
{
    /// <exception cref="ArgumentOutOfRangeException">A count below 1 or a layout that is not one.</exception>
    public BatchSizing(int itemsPerBatch, int? maxTokensPerBatch = null, SequenceLayout layout = SequenceLayout.Packed)
    {
        if (itemsPerBatch < 1)
            throw new ArgumentOutOfRangeException(nameof(itemsPerBatch), itemsPerBatch, "a batch holds at least one item");
        if (maxTokensPerBatch < 1)
            throw new ArgumentOutOfRangeException(nameof(maxTokensPerBatch), maxTokensPerBatch,
                "the token budget of a batch must be at least 1");
        if (!Enum.IsDefined(layout)) throw new ArgumentOutOfRangeException(nameof(layout), layout, "not a sequence layout");
        ItemsPerBatch = itemsPerBatch;
        MaxTokensPerBatch = maxTokensPerBatch;
        Layout = layout;
    }

    /// <summary>Items per batch when there is no token budget (the last batch may hold fewer).</summary>
    public int ItemsPerBatch { get; }

    /// <summary>The most token rows a batch may run, or null to batch by <see cref="ItemsPerBatch"/>.</summary>
    public int? MaxTokensPerBatch { get; }

    /// <summary>Padded or packed.</summary>
    public SequenceLayout Layout { get; }

    /// <summary>
    /// How many items from <paramref name="start"/> (of <paramref name="count"/>) go in the next batch: at least one.
    /// <paramref name="lengthsOf"/> gives item i's sequence lengths, <paramref name="name"/> its name for an error.
    /// </summary>
    /// <exception cref="ArgumentException">The item at <paramref name="start"/> alone needs more rows than the budget.</exception>
    public int Next(int start, int count, Func<int, IReadOnlyList<int>> lengthsOf, Func<int, string> name)
    {
        ArgumentNullException.ThrowIfNull(lengthsOf);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(count, start);
        if (MaxTokensPerBatch is not int budget) return Math.Min(ItemsPerBatch, count - start);
        long sum = 0, sequences = 0;
        int longest = 0, taken = 0;
        for (int i = start; i < count; i++, taken++)
        {
            IReadOnlyList<int> lengths = lengthsOf(i);
            long nextSum = sum + lengths.Sum(l => (long)l), nextSequences = sequences + lengths.Count;
            int nextLongest = Math.Max(longest, lengths.Max());
            long rows = Layout == SequenceLayout.Packed ? nextSum : nextSequences * nextLongest;
            if (rows > budget)
            {
                if (taken > 0) break;
                throw new ArgumentException($"{name(i)} needs {rows} token rows, more than the {budget} a batch may hold " +
                    "(max tokens per batch, --max-tokens-per-batch); raise the budget or shorten the data (--max-length)",
                    nameof(MaxTokensPerBatch));
            }
            (sum, sequences, longest) = (nextSum, nextSequences, nextLongest);
        }
        return taken;
    }
}
