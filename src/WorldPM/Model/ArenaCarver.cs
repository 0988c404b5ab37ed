using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// Hands out consecutive regions of two arenas, each start aligned to <see cref="ParameterStore.Alignment"/>
/// elements: one in the storage dtype (<see cref="Take"/>) and one that is fp32 whatever the storage
/// (<see cref="TakeF32"/>: the RMSNorm rstd and attention lse the ops require in fp32, rewards, loss). A layout
/// is written once against this interface and run twice: with <see cref="ArenaSizer"/> (regions = offsets) to
/// learn the sizes, then with <see cref="ArenaViews{T}"/> (regions = views) over the arenas allocated with them.
/// </summary>
internal interface IArenaCarver<out TTensor, out TF32>
{
    /// <summary>The next region of <paramref name="count"/> elements of the storage arena.</summary>
    TTensor Take(long count);

    /// <summary>The next region of <paramref name="count"/> elements of the fp32 arena.</summary>
    TF32 TakeF32(long count);

    /// <summary>The regions that <paramref name="first"/> and <paramref name="second"/> take share memory: both start
    /// at the same place, and carving continues after the longer one. For groups of buffers never live at once.</summary>
    (TFirst, TSecond) Overlay<TFirst, TSecond>(Func<TFirst> first, Func<TSecond> second);

    /// <summary><see cref="Overlay"/> for <paramref name="count"/> groups, <paramref name="group"/>(0) to
    /// <paramref name="group"/>(count - 1): all start at the same place, and carving continues after the longest.</summary>
    TGroup[] OverlayEach<TGroup>(int count, Func<int, TGroup> group);
}

/// <summary>An arena carver with the two bump pointers and the overlay bookkeeping.</summary>
internal abstract class ArenaCarverBase<TTensor, TF32> : IArenaCarver<TTensor, TF32>
{
    /// <summary>Storage elements used so far (that arena's size, once the layout ran).</summary>
    public long Size { get; private set; }

    /// <summary>fp32 elements used so far.</summary>
    public long F32Size { get; private set; }

    public TTensor Take(long count)
    {
        long offset = ParameterStore.AlignUp(Size);
        Size = offset + count;
        return Region(offset, count);
    }

    public TF32 TakeF32(long count)
    {
        long offset = ParameterStore.AlignUp(F32Size);
        F32Size = offset + count;
        return RegionF32(offset, count);
    }

    public (TFirst, TSecond) Overlay<TFirst, TSecond>(Func<TFirst> first, Func<TSecond> second)
    {
        (TFirst a, TSecond b) = (default!, default!);
        CarveOverlaid([() => a = first(), () => b = second()]);
        return (a, b);
    }

    public TGroup[] OverlayEach<TGroup>(int count, Func<int, TGroup> group)
    {
        var groups = new TGroup[count];
        CarveOverlaid(Enumerable.Range(0, count).Select(i => (Action)(() => groups[i] = group(i))));
        return groups;
    }

    /// <summary>Runs each carving from the same start and leaves the bump pointers after the longest.</summary>
    private void CarveOverlaid(IEnumerable<Action> carvings)
    {
        (long start, long startF32) = (Size, F32Size);
        (long end, long endF32) = (start, startF32);
        foreach (Action carve in carvings)
        {
            (Size, F32Size) = (start, startF32);
            carve();
            (end, endF32) = (Math.Max(end, Size), Math.Max(endF32, F32Size));
        }
        (Size, F32Size) = (end, endF32);
    }

    protected abstract TTensor Region(long offset, long count);

    protected abstract TF32 RegionF32(long offset, long count);
}

/// <summary>The sizing pass: regions are just their offsets.</summary>
internal sealed class ArenaSizer : ArenaCarverBase<long, long>
{
    protected override long Region(long offset, long count) => offset;

    protected override long RegionF32(long offset, long count) => offset;
}

/// <summary>The carving pass: regions are views of the two arenas (disposed with this object).</summary>
internal sealed class ArenaViews<T>(DeviceBuffer<T> arena, DeviceBuffer<float> f32Arena)
    : ArenaCarverBase<DeviceBuffer<T>, DeviceBuffer<float>>, IDisposable where T : unmanaged
{
    private readonly List<DeviceBuffer> views = [];

    protected override DeviceBuffer<T> Region(long offset, long count) => Keep(arena.View(offset, count));

    protected override DeviceBuffer<float> RegionF32(long offset, long count) => Keep(f32Arena.View(offset, count));

    private TView Keep<TView>(TView view) where TView : DeviceBuffer
    {
        views.Add(view);
        return view;
    }

    public void Dispose()
    {
        foreach (DeviceBuffer view in views) view.Dispose();
        views.Clear();
    }
}
