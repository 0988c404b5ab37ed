using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// All activations of one batch shape in ONE device buffer of the storage type T and one small fp32 buffer
/// (norm statistics, logsumexps, rewards, loss), carved into views by <see cref="ActivationLayout{TTensor, TF32}"/>
/// (sized by a first pass over the same layout), plus one int32 buffer holding the token ids [N], lengths [B],
/// scoring positions [B] and scoring rows [B], uploaded in one copy per batch.
/// Built when a shape (or way of running the last layer, or choice of recomputation) is first seen and reused while
/// it stays.
/// </summary>
internal sealed class ActivationArena<T> : IDisposable where T : unmanaged
{
    private readonly DeviceBuffer<T> arena;
    private readonly DeviceBuffer<float> f32Arena;
    private readonly ArenaViews<T> views;
    private readonly DeviceBuffer<int> integers;
    private readonly int[] hostIntegers;

    public ActivationArena(WorldPMContext context, BatchShape shape, bool fullLastLayer, bool recompute)
    {
        Shape = shape;
        FullLastLayer = fullLastLayer;
        Recompute = recompute;
        var sizer = new ArenaSizer();
        _ = new ActivationLayout<long, long>(sizer, shape, fullLastLayer, recompute);
        arena = context.Allocate<T>(sizer.Size);
        f32Arena = context.Allocate<float>(sizer.F32Size);
        views = new ArenaViews<T>(arena, f32Arena);
        Layout = new ActivationLayout<DeviceBuffer<T>, DeviceBuffer<float>>(views, shape, fullLastLayer, recompute);
        Layout.Ones.Fill(1);
        integers = context.Allocate<int>(IntegerCount(shape));
        hostIntegers = new int[IntegerCount(shape)];
        Bytes = BytesOf(arena) + BytesOf(f32Arena) + BytesOf(integers);
        TokenIds = integers.View(0, shape.N);
        Lengths = integers.View(shape.N, shape.B);
        ScoringPositions = integers.View(shape.N + shape.B, shape.B);
        ScoringRows = integers.View(shape.N + 2 * shape.B, shape.B);
    }

    /// <summary>The batch's integers, uploaded in one copy: token ids [N], lengths, scoring positions and scoring
    /// rows [B] each (what <see cref="ModelMemory"/> counts too).</summary>
    internal static long IntegerCount(BatchShape shape) => shape.N + 3L * shape.B;

    public BatchShape Shape { get; }

    /// <summary>Whether the layout runs the last layer at every token (see
    /// <see cref="ActivationLayout{TTensor, TF32}"/>).</summary>
    public bool FullLastLayer { get; }

    /// <summary>Whether the layers share one region of intermediates, recomputed before each layer's backward (see
    /// <see cref="ActivationLayout{TTensor, TF32}"/>).</summary>
    public bool Recompute { get; }

    /// <summary>Whether the batch now in the arena runs its forward GEMMs row-invariant (set per batch from
    /// <see cref="RewardModel.BatchInvariant"/>; not part of the layout).</summary>
    public bool BatchInvariant { get; set; }

    /// <summary>The device memory of the three buffers.</summary>
    public long Bytes { get; }

    /// <summary>The views.</summary>
    public ActivationLayout<DeviceBuffer<T>, DeviceBuffer<float>> Layout { get; }

    /// <summary>Token ids [B, T] (padding positions hold 0).</summary>
    public DeviceBuffer<int> TokenIds { get; }

    /// <summary>Sequence lengths [B].</summary>
    public DeviceBuffer<int> Lengths { get; }

    /// <summary>The position of each sequence's scoring token, lengths - 1 [B] (the RoPE positions of its q).</summary>
    public DeviceBuffer<int> ScoringPositions { get; }

    /// <summary>Each sequence's scoring row in the flattened [B T] rows, b T + lengths[b] - 1 [B] (the index of the
    /// row ops; see <see cref="ScoringRows"/>).</summary>
    public DeviceBuffer<int> ScoringRows { get; }

    /// <summary>Uploads a batch of this arena's shape: its ids, lengths, scoring positions and scoring rows, in one
    /// copy. Every value was checked on the host when the batch was made (<see cref="SequenceBatch"/>), so the device
    /// never has to report one.</summary>
    public void Upload(SequenceBatch sequences)
    {
        BatchShape s = Shape;
        Span<int> host = hostIntegers;
        sequences.Tokens.CopyTo(host);
        sequences.Lengths.CopyTo(host[(int)s.N..]);
        sequences.ScoringPositions.CopyTo(host[(int)(s.N + s.B)..]);
        Span<int> rows = host[(int)(s.N + 2 * s.B)..];
        for (int b = 0; b < s.B; b++) rows[b] = checked((int)(b * s.T + sequences.ScoringPositions[b]));
        integers.CopyFrom(hostIntegers);
    }

    private static long BytesOf(DeviceBuffer buffer) => buffer.Count * DTypes.SizeOf(buffer.DType);

    public void Dispose()
    {
        views.Dispose();
        TokenIds.Dispose();
        Lengths.Dispose();
        ScoringPositions.Dispose();
        ScoringRows.Dispose();
        integers.Dispose();
        arena.Dispose();
        f32Arena.Dispose();
    }
}
