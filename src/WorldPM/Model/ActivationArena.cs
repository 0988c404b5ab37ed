using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// All activations of one batch shape in ONE device buffer of the storage type T and one small fp32 buffer
/// (norm statistics, logsumexps, rewards, loss), carved into views by <see cref="ActivationLayout{TTensor, TF32}"/>
/// (sized by a first pass over the same layout), plus one int32 buffer holding the token ids [N] and lengths [B].
/// Built when a shape is first seen and reused while it stays.
/// </summary>
internal sealed class ActivationArena<T> : IDisposable where T : unmanaged
{
    private readonly DeviceBuffer<T> arena;
    private readonly DeviceBuffer<float> f32Arena;
    private readonly ArenaViews<T> views;
    private readonly DeviceBuffer<int> integers;

    public ActivationArena(WorldPMContext context, BatchShape shape)
    {
        Shape = shape;
        var sizer = new ArenaSizer();
        _ = new ActivationLayout<long, long>(sizer, shape);
        arena = context.Allocate<T>(sizer.Size);
        f32Arena = context.Allocate<float>(sizer.F32Size);
        views = new ArenaViews<T>(arena, f32Arena);
        Layout = new ActivationLayout<DeviceBuffer<T>, DeviceBuffer<float>>(views, shape);
        Layout.Ones.Fill(1);
        integers = context.Allocate<int>(shape.N + shape.B);
        TokenIds = integers.View(0, shape.N);
        Lengths = integers.View(shape.N, shape.B);
    }

    public BatchShape Shape { get; }

    /// <summary>The views.</summary>
    public ActivationLayout<DeviceBuffer<T>, DeviceBuffer<float>> Layout { get; }

    /// <summary>Token ids [B, T] (padding positions hold 0).</summary>
    public DeviceBuffer<int> TokenIds { get; }

    /// <summary>Sequence lengths [B].</summary>
    public DeviceBuffer<int> Lengths { get; }

    public void Dispose()
    {
        views.Dispose();
        TokenIds.Dispose();
        Lengths.Dispose();
        integers.Dispose();
        arena.Dispose();
        f32Arena.Dispose();
    }
}
