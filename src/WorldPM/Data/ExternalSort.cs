using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace WorldPM.Data;

/// <summary>
/// Sorts more fixed-size records than memory should hold. Records gather into a run of at most
/// <c>budgetBytes</c>; a full run is sorted in memory and appended to a <see cref="ScratchFile"/>, and
/// <see cref="Sorted"/> merges the runs k ways, each read through a buffer that is its share of the budget. Memory
/// therefore stays at about the budget whatever the record count, and records that fit one run never touch the disk.
/// The order must be total (no two records compare equal) for the output not to depend on where the runs were cut.
/// </summary>
internal sealed class ExternalSort<T> : IDisposable where T : unmanaged
{
    private readonly IComparer<T> _order;
    private readonly int _runLength;
    private readonly string? _folder;
    private readonly List<(long Start, int Count)> _spilled = [];
    private T[] _run;
    private int _count;
    private FileStream? _file;
    private long _fileBytes;
    private bool _sorting;

    /// <summary>Sorts by <paramref name="order"/> in runs of at most <paramref name="budgetBytes"/>, spilled to
    /// <paramref name="folder"/> (the system temp folder when null).</summary>
    public ExternalSort(IComparer<T> order, long budgetBytes, string? folder)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, Unsafe.SizeOf<T>());
        _order = order;
        _runLength = (int)Math.Min(budgetBytes / Unsafe.SizeOf<T>(), Array.MaxLength);
        _folder = folder;
        // The run grows to the budget as records come, so a small input does not take the whole budget.
        _run = new T[Math.Min(_runLength, 4096)];
    }

    /// <summary>How many runs went to the scratch file (0 while everything added fits one run).</summary>
    public int SpilledRuns => _spilled.Count;

    public void Add(in T record)
    {
        if (_sorting) throw new InvalidOperationException("records added after the sort started");
        if (_count == _run.Length)
        {
            if (_run.Length < _runLength) Array.Resize(ref _run, (int)Math.Min(2L * _run.Length, _runLength));
            else Spill();
        }
        _run[_count++] = record;
    }

    /// <summary>The records added, in order; read once, after the last <see cref="Add"/>.</summary>
    public IEnumerable<T> Sorted()
    {
        if (_sorting) throw new InvalidOperationException("the sorted records were already read");
        _sorting = true;
        return _spilled.Count == 0 ? InMemory() : Merged();
    }

    private IEnumerable<T> InMemory()
    {
        Array.Sort(_run, 0, _count, _order);
        for (var i = 0; i < _count; i++) yield return _run[i];
    }

    private IEnumerable<T> Merged()
    {
        if (_count > 0) Spill();
        _run = [];
        _file!.Flush();
        int share = Math.Max(1, _runLength / _spilled.Count);
        var runs = _spilled.Select(run => new RunReader(_file.SafeFileHandle, run.Start, run.Count, share)).ToArray();
        var heads = new PriorityQueue<int, T>(runs.Length, _order);
        for (var i = 0; i < runs.Length; i++)
        {
            if (runs[i].TryNext(out T first)) heads.Enqueue(i, first);
        }
        while (heads.TryDequeue(out int i, out T record))
        {
            yield return record;
            if (runs[i].TryNext(out T next)) heads.Enqueue(i, next);
        }
    }

    private void Spill()
    {
        Array.Sort(_run, 0, _count, _order);
        _file ??= ScratchFile.Create(_folder, "sort");
        _spilled.Add((_fileBytes, _count));
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(_run.AsSpan(0, _count));
        _file.Write(bytes);
        _fileBytes += bytes.Length;
        _count = 0;
    }

    /// <summary>One sorted run of the scratch file, read a buffer at a time.</summary>
    private sealed class RunReader(SafeFileHandle file, long start, int count, int bufferLength)
    {
        private readonly T[] _buffer = new T[Math.Min(bufferLength, count)];
        private int _read;
        private int _filled;
        private int _next;

        public bool TryNext(out T record)
        {
            if (_next == _filled)
            {
                if (_read == count)
                {
                    record = default;
                    return false;
                }
                _filled = Math.Min(_buffer.Length, count - _read);
                Span<byte> bytes = MemoryMarshal.AsBytes(_buffer.AsSpan(0, _filled));
                long at = start + (long)_read * Unsafe.SizeOf<T>();
                for (var done = 0; done < bytes.Length;)
                {
                    int got = RandomAccess.Read(file, bytes[done..], at + done);
                    if (got == 0) throw new EndOfStreamException("a sort run's scratch file ended early");
                    done += got;
                }
                _read += _filled;
                _next = 0;
            }
            record = _buffer[_next++];
            return true;
        }
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
        _run = [];
    }
}
