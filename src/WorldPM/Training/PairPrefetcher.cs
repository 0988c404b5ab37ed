using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using WorldPM.Tokenization;

namespace WorldPM.Training;

/// <summary>
/// Hands out the training pairs in <see cref="DataOrder"/> from a position on, read by a background thread a bounded
/// number of pairs ahead: with a memory-mapped token store, reading the next batches' tokens (page faults, decoding)
/// overlaps the current step instead of preceding it. The order is exactly the one indexing the list in the calling
/// thread would give. An exception the reading thread meets (a damaged store) is thrown from <see cref="Next"/>, on
/// the caller's thread, with its original stack. <see cref="Peek"/> looks ahead without taking (a token budget needs
/// the next pairs' lengths before it knows how many to take).
/// </summary>
public sealed class PairPrefetcher : IDisposable
{
    private readonly BlockingCollection<Item> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _reader;
    private readonly List<TokenizedPair> _peeked = [];  // taken from the queue, not yet handed out, from _peekedStart on
    private int _peekedStart;

    private readonly record struct Item(TokenizedPair? Pair, ExceptionDispatchInfo? Error);

    /// <param name="pairs">The training pairs; read only by the background thread while this prefetcher lives.</param>
    /// <param name="seed">The data order's seed (<see cref="DataOrder"/>).</param>
    /// <param name="position">The first position handed out.</param>
    /// <param name="ahead">How many pairs may wait read ahead.</param>
    public PairPrefetcher(IReadOnlyList<TokenizedPair> pairs, int seed, long position, int ahead)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfLessThan(ahead, 1);
        var order = new DataOrder(seed, pairs.Count);
        Order = new DataOrder(seed, pairs.Count);
        _queue = new BlockingCollection<Item>(ahead);
        CancellationToken stop = _stop.Token;
        _reader = new Thread(() => Read(pairs, order, position, stop)) { IsBackground = true, Name = "worldpm pair prefetch" };
        _reader.Start();
    }

    /// <summary>The order the pairs come in: position p hands out pair Order[p] (the caller's own instance: a
    /// <see cref="DataOrder"/> caches its epoch's permutation, so the reading thread keeps another).</summary>
    public DataOrder Order { get; }

    /// <summary>The pair at the next position.</summary>
    public TokenizedPair Next()
    {
        if (_peekedStart == _peeked.Count) return Take();
        TokenizedPair pair = _peeked[_peekedStart++];
        if (_peekedStart == _peeked.Count)
        {
            _peeked.Clear();
            _peekedStart = 0;
        }
        return pair;
    }

    /// <summary>The pair <paramref name="ahead"/> positions after the next one (0: the next), left to be taken.</summary>
    public TokenizedPair Peek(int ahead)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ahead);
        while (_peeked.Count - _peekedStart <= ahead) _peeked.Add(Take());
        return _peeked[_peekedStart + ahead];
    }

    private TokenizedPair Take()
    {
        Item item = _queue.Take();
        item.Error?.Throw();
        return item.Pair!;
    }

    private void Read(IReadOnlyList<TokenizedPair> pairs, DataOrder order, long position, CancellationToken stop)
    {
        try
        {
            for (long p = position; ; p++)
            {
                Item item;
                try
                {
                    item = new Item(pairs[order[p]], null);
                }
                catch (Exception e)
                {
                    _queue.Add(new Item(null, ExceptionDispatchInfo.Capture(e)), stop);
                    return;
                }
                _queue.Add(item, stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _reader.Join();
        _stop.Dispose();
        _queue.Dispose();
    }
}
