using System.IO.MemoryMappedFiles;

namespace WorldPM.Data;

/// <summary>
/// Reads byte ranges of a memory-mapped file through a few mapped windows, unmapping the least recently used one when
/// another is needed: the pages a reader touches stay resident only while their window is mapped, so reading a file of
/// any size in any order holds at most the window count times the window size (by default <see cref="MaxWindows"/> x
/// <see cref="WindowBytes"/>) of it. Mapping the whole file
/// once would keep every page ever read in the process's resident set. Safe to call from several threads.
/// </summary>
internal sealed unsafe class MappedWindowCache : IDisposable
{
    /// <summary>Bytes one window maps by default: a multiple of the page size.</summary>
    public const long WindowBytes = 16 << 20;

    /// <summary>Windows mapped at once by default.</summary>
    public const int MaxWindows = 8;

    private readonly MemoryMappedFile _file;
    private readonly long _length;
    private readonly long _windowBytes;
    private readonly int _maxWindows;
    private readonly LinkedList<Window> _windows = [];  // most recently used first
    private readonly object _lock = new();
    private bool _disposed;

    private sealed record Window(long Index, MemoryMappedViewAccessor View, IntPtr Bytes);

    public MappedWindowCache(MemoryMappedFile file, long length, long windowBytes = WindowBytes, int maxWindows = MaxWindows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWindows, 1);
        (_file, _length, _windowBytes, _maxWindows) = (file, length, windowBytes, maxWindows);
    }

    /// <summary>Windows mapped now (at most the maximum given).</summary>
    public int MappedWindows
    {
        get
        {
            lock (_lock) return _windows.Count;
        }
    }

    /// <summary>Copies bytes [<paramref name="at"/>, <paramref name="at"/> + destination length) of the file into
    /// <paramref name="destination"/>; the caller has checked that they lie in the file.</summary>
    public void Read(long at, Span<byte> destination)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (destination.Length > 0)
            {
                long index = at / _windowBytes, within = at % _windowBytes;
                Window window = Acquire(index);
                int count = (int)Math.Min(destination.Length, Math.Min(_windowBytes, _length - index * _windowBytes) - within);
                new ReadOnlySpan<byte>((byte*)window.Bytes + within, count).CopyTo(destination);
                destination = destination[count..];
                at += count;
            }
        }
    }

    private Window Acquire(long index)
    {
        for (LinkedListNode<Window>? node = _windows.First; node is not null; node = node.Next)
        {
            if (node.Value.Index != index) continue;
            _windows.Remove(node);
            _windows.AddFirst(node);
            return node.Value;
        }
        if (_windows.Count == _maxWindows)
        {
            Unmap(_windows.Last!.Value);
            _windows.RemoveLast();
        }
        long start = index * _windowBytes, size = Math.Min(_windowBytes, _length - start);
        MemoryMappedViewAccessor view = _file.CreateViewAccessor(start, size, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        var window = new Window(index, view, (IntPtr)(pointer + view.PointerOffset));
        _windows.AddFirst(window);
        return window;
    }

    private static void Unmap(Window window)
    {
        window.View.SafeMemoryMappedViewHandle.ReleasePointer();
        window.View.Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (Window window in _windows) Unmap(window);
            _windows.Clear();
        }
    }
}
