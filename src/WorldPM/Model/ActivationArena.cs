using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// All activations in ONE device buffer of the storage type T and one small fp32 buffer (norm statistics,
/// logsumexps, rewards, loss), carved into views by <see cref="ActivationLayout{TTensor, TF32}"/>, plus one int32
/// buffer holding the batch's integers, uploaded in one copy per batch. The buffers are sized for a
/// <see cref="Capacity"/> shape and the views carved for the batch now in them (<see cref="Load"/>): every region of
/// the layout grows with N and B only, so a batch with no more sequences and token rows than the capacity fits in
/// its buffers, and a packed batch, whose N changes with every batch, costs a new carving (views, no allocation)
/// instead of new buffers. Built for a way of running the last layer and an <see cref="ActivationPlan"/>.
/// </summary>
internal sealed class ActivationArena<T> : IDisposable where T : unmanaged
{
    private readonly DeviceBuffer<T> arena;
    private readonly DeviceBuffer<float> f32Arena;
    private readonly DeviceBuffer<int> integers;
    private readonly int[] hostIntegers;
    private readonly List<DeviceBuffer<int>> integerViews = [];
    private ArenaViews<T>? views;
    private DeviceBuffer<int>? offsets;

    public ActivationArena(WorldPMContext context, BatchShape capacity, bool fullLastLayer, ActivationPlan plan)
    {
        Capacity = capacity;
        FullLastLayer = fullLastLayer;
        Plan = plan;
        ArenaSizer sizer = Size(capacity, fullLastLayer, plan);
        arena = context.Allocate<T>(sizer.Size);
        f32Arena = context.Allocate<float>(sizer.F32Size);
        integers = context.Allocate<int>(IntegerCount(capacity));
        hostIntegers = new int[IntegerCount(capacity)];
        Bytes = BytesOf(arena) + BytesOf(f32Arena) + BytesOf(integers);
    }

    /// <summary>The batch's integers: token ids [N]; padded, lengths [B]; packed, offsets [B + filler + 1] and
    /// positions [N]; then scoring positions and scoring rows [B] each (what <see cref="ModelMemory"/> counts too).</summary>
    internal static long IntegerCount(BatchShape shape) =>
        shape.Packed ? 2 * shape.N + 3L * shape.B + shape.Filler + 1 : shape.N + 3L * shape.B;

    /// <summary>Writes <paramref name="sequences"/>' integers into <paramref name="into"/> in the order
    /// <see cref="IntegerCount"/> lists them; returns how many.</summary>
    internal static int WriteIntegers(SequenceBatch sequences, int[] into)
    {
        int at = 0;
        void Put(ReadOnlySpan<int> values)
        {
            values.CopyTo(into.AsSpan(at));
            at += values.Length;
        }
        Put(sequences.Tokens);
        if (sequences.Layout == SequenceLayout.Packed)
        {
            Put(sequences.Offsets);
            Put(sequences.Positions);
        }
        else
        {
            Put(sequences.Lengths);
        }
        Put(sequences.ScoringPositions);
        Put(sequences.ScoringRows);
        return at;
    }

    /// <summary>The sizes of the layout of <paramref name="shape"/>.</summary>
    internal static ArenaSizer Size(BatchShape shape, bool fullLastLayer, ActivationPlan plan)
    {
        var sizer = new ArenaSizer();
        _ = new ActivationLayout<long, long>(sizer, shape, fullLastLayer, plan);
        return sizer;
    }

    /// <summary>The shape the buffers were sized for.</summary>
    public BatchShape Capacity { get; }

    /// <summary>The shape of the batch now in the arena (the views' shape).</summary>
    public BatchShape Shape { get; private set; }

    /// <summary>Whether the layout runs the last layer at every token (see
    /// <see cref="ActivationLayout{TTensor, TF32}"/>).</summary>
    public bool FullLastLayer { get; }

    /// <summary>What the layers keep (see <see cref="ActivationLayout{TTensor, TF32}"/>).</summary>
    public ActivationPlan Plan { get; }

    /// <summary>Whether the layers share one region of intermediates, recomputed before each layer's backward.</summary>
    public bool Recompute => Plan == ActivationPlan.Recompute;

    /// <summary>Whether the batch now in the arena runs its forward GEMMs row-invariant (set per batch from
    /// <see cref="RewardModel.BatchInvariant"/>; not part of the layout).</summary>
    public bool BatchInvariant { get; set; }

    /// <summary>The device memory of the three buffers.</summary>
    public long Bytes { get; }

    /// <summary>The views (carved by the first <see cref="Load"/>).</summary>
    public ActivationLayout<DeviceBuffer<T>, DeviceBuffer<float>> Layout { get; private set; } = null!;

    /// <summary>Token ids [N] (padding positions hold 0).</summary>
    public DeviceBuffer<int> TokenIds { get; private set; } = null!;

    /// <summary>Padded: sequence lengths [B]; null packed.</summary>
    public DeviceBuffer<int>? Lengths { get; private set; }

    /// <summary>Packed: where the sequences lie in the stream and how long the longest is (the attention's
    /// cu_seqlens [B + 1] and max_seqlen); null padded.</summary>
    public PackedSequences? Packing { get; private set; }

    /// <summary>Packed: each token's position in its sequence [N] (the RoPE positions); null padded (positions
    /// 0..T-1 in every row).</summary>
    public DeviceBuffer<int>? Positions { get; private set; }

    /// <summary>The position of each sequence's scoring token, lengths - 1 [B] (the RoPE positions of its q).</summary>
    public DeviceBuffer<int> ScoringPositions { get; private set; } = null!;

    /// <summary>Each sequence's scoring row among the N token rows [B] (the index of the row ops; see
    /// <see cref="ScoringRows"/>).</summary>
    public DeviceBuffer<int> ScoringRows { get; private set; } = null!;

    /// <summary>Whether a batch of <paramref name="shape"/> fits in these buffers.</summary>
    public bool Fits(BatchShape shape)
    {
        ArenaSizer sizer = Size(shape, FullLastLayer, Plan);
        return sizer.Size <= arena.Count && sizer.F32Size <= f32Arena.Count && IntegerCount(shape) <= integers.Count;
    }

    /// <summary>Carves the views for <paramref name="sequences"/> (if its shape is not the current one) and uploads its
    /// ids, lengths or offsets and positions, scoring positions and scoring rows in one copy. Every value was computed
    /// and checked on the host when the batch was made (<see cref="SequenceBatch"/>), so the device never has to
    /// report one.</summary>
    public void Load(BatchShape shape, SequenceBatch sequences)
    {
        CarveFor(shape, sequences.SeqLen);
        int at = WriteIntegers(sequences, hostIntegers);
        using DeviceBuffer<int> used = integers.View(0, at);
        used.CopyFrom(hostIntegers.AsSpan(0, at));
    }

    /// <summary><see cref="Load"/> from a micro-batch staged in device buffers of its own: the integers come by a
    /// device copy, which a recorded training step repeats at each replay (an upload would not be).</summary>
    public void Load(StagedPairs staged)
    {
        CarveFor(staged.Shape, staged.SeqLen);
        // A recording must not depend on which shape was carved last (another one may have overwritten the ones
        // since): its replays fill them again.
        Layout.Ones.Fill(1);
        using DeviceBuffer<int> used = integers.View(0, staged.Integers.Count);
        used.CopyFrom(staged.Integers);
    }

    private void CarveFor(BatchShape shape, int seqLen)
    {
        if (shape != Shape)
        {
            if (!Fits(shape)) throw new InvalidOperationException($"a batch of {shape.B} sequences and {shape.N} token " +
                $"rows does not fit an arena built for {Capacity.B} and {Capacity.N}");
            Carve(shape);
        }
        Packing = offsets is null ? null : new PackedSequences(offsets, seqLen);
    }

    /// <summary>The views of the layout and of the integers for <paramref name="shape"/>, over the same buffers.</summary>
    private void Carve(BatchShape shape)
    {
        DisposeViews();
        Shape = shape;
        views = new ArenaViews<T>(arena, f32Arena);
        Layout = new ActivationLayout<DeviceBuffer<T>, DeviceBuffer<float>>(views, shape, FullLastLayer, Plan);
        Layout.Ones.Fill(1);
        long at = 0;
        DeviceBuffer<int> Next(long count)
        {
            DeviceBuffer<int> view = integers.View(at, count);
            integerViews.Add(view);
            at += count;
            return view;
        }
        TokenIds = Next(shape.N);
        if (shape.Packed)
        {
            Lengths = null;
            offsets = Next(shape.AttendedSequences + 1);
            Positions = Next(shape.N);
        }
        else
        {
            Lengths = Next(shape.B);
            offsets = null;
            Positions = null;
        }
        ScoringPositions = Next(shape.B);
        ScoringRows = Next(shape.B);
    }

    private void DisposeViews()
    {
        views?.Dispose();
        views = null;
        foreach (DeviceBuffer<int> view in integerViews) view.Dispose();
        integerViews.Clear();
    }

    private static long BytesOf(DeviceBuffer buffer) => buffer.Count * DTypes.SizeOf(buffer.DType);

    public void Dispose()
    {
        DisposeViews();
        integers.Dispose();
        arena.Dispose();
        f32Arena.Dispose();
    }
}
