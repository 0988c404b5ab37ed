using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// Hands out consecutive regions of one arena, each start aligned to <see cref="ParameterStore.Alignment"/>
/// elements. A layout is written once against this interface and run twice: with <see cref="ArenaSizer"/>
/// (TTensor = offset) to learn the size, then with <see cref="ArenaViews"/> (TTensor = a view) over the arena
/// allocated with that size.
/// </summary>
internal interface IArenaCarver<out TTensor>
{
    /// <summary>The next region of <paramref name="count"/> elements.</summary>
    TTensor Take(long count);

    /// <summary>The regions that <paramref name="first"/> and <paramref name="second"/> take share memory: both start
    /// at the same place, and carving continues after the longer one. For groups of buffers never live at once.</summary>
    (TFirst, TSecond) Overlay<TFirst, TSecond>(Func<TFirst> first, Func<TSecond> second);
}

/// <summary>An arena carver with the bump pointer and overlay bookkeeping.</summary>
internal abstract class ArenaCarverBase<TTensor> : IArenaCarver<TTensor>
{
    /// <summary>Elements used so far (the arena size, once the layout ran).</summary>
    public long Size { get; private set; }

    public TTensor Take(long count)
    {
        long offset = ParameterStore.AlignUp(Size);
        Size = offset + count;
        return Region(offset, count);
    }

    public (TFirst, TSecond) Overlay<TFirst, TSecond>(Func<TFirst> first, Func<TSecond> second)
    {
        long start = Size;
        TFirst a = first();
        long end = Size;
        Size = start;
        TSecond b = second();
        Size = Math.Max(end, Size);
        return (a, b);
    }

    protected abstract TTensor Region(long offset, long count);
}

/// <summary>The sizing pass: regions are just their offsets.</summary>
internal sealed class ArenaSizer : ArenaCarverBase<long>
{
    protected override long Region(long offset, long count) => offset;
}

/// <summary>The carving pass: regions are views of the arena (disposed with this object).</summary>
internal sealed class ArenaViews(DeviceBuffer<float> arena) : ArenaCarverBase<DeviceBuffer<float>>, IDisposable
{
    private readonly List<DeviceBuffer<float>> views = [];

    protected override DeviceBuffer<float> Region(long offset, long count)
    {
        DeviceBuffer<float> view = arena.View(offset, count);
        views.Add(view);
        return view;
    }

    public void Dispose()
    {
        foreach (DeviceBuffer<float> view in views) view.Dispose();
        views.Clear();
    }
}
