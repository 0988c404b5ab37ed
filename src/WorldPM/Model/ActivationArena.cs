using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// All activations of one batch shape in ONE fp32 device buffer, carved into views by
/// <see cref="ActivationLayout{TTensor}"/> (sized by a first pass over the same layout), plus one int32 buffer
/// holding the token ids [N] and lengths [B]. Built when a shape is first seen and reused while it stays.
/// </summary>
internal sealed class ActivationArena : IDisposable
{
    private readonly DeviceBuffer<float> arena;
    private readonly ArenaViews views;
    private readonly DeviceBuffer<int> integers;

    public ActivationArena(WorldPMContext context, BatchShape shape)
    {
        Shape = shape;
        var sizer = new ArenaSizer();
        _ = new ActivationLayout<long>(sizer, shape);
        arena = context.Allocate<float>(sizer.Size);
        views = new ArenaViews(arena);
        Layout = new ActivationLayout<DeviceBuffer<float>>(views, shape);
        Layout.Ones.Fill(1);
        integers = context.Allocate<int>(shape.N + shape.B);
        TokenIds = integers.View(0, shape.N);
        Lengths = integers.View(shape.N, shape.B);
    }

    public BatchShape Shape { get; }

    /// <summary>The views.</summary>
    public ActivationLayout<DeviceBuffer<float>> Layout { get; }

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
    }
}
