using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// ZeRO-1 for <see cref="Trainer"/>: the AdamW moments are split over the ranks (<see cref="ShardLayout"/>), so each
/// rank keeps 1/N of them. Per step: the gradients are reduce-scattered (each rank receives the mean of its block;
/// the short tail is all-reduced), each rank runs AdamW on the parameters it owns, and the updated fp32 masters are
/// all-gathered back into every rank's full copy (then rounded into the working weights).
/// <para>
/// Every rank ends a step with the same weights as plain data parallelism: the mean gradient of each element is the
/// same two-or-more-operand sum, and AdamW is elementwise. The gradient norm and the inf/NaN check are summed over
/// the ranks' blocks (the tail counted once).
/// </para>
/// <para>
/// Checkpoints hold the moments gathered whole, named and shaped as without ZeRO-1: a run can resume with any rank
/// count, with or without ZeRO-1. Gathering is a collective: every rank calls <see cref="GatherMoments"/>.
/// </para>
/// </summary>
public sealed class ShardedAdamW : IDisposable
{
    private readonly Communicator _comm;
    private readonly RewardModel _model;
    private readonly DeviceBuffer _gradientBlock;
    private readonly DeviceBuffer<float> _masterBlock;
    private readonly DeviceBuffer<float> _m, _v;
    private readonly List<AdamWTensor> _tensors = [];
    private readonly List<DeviceBuffer> _views = [];
    // Views of the model's flat buffers that every step uses: the gradient blocks, the gradient tail (null without
    // one), this rank's block of the masters and the masters' blocks.
    private readonly DeviceBuffer _gradientBlocks;
    private readonly DeviceBuffer<float> _masterBlocks, _ownMasters;
    private readonly DeviceBuffer? _gradientTail;

    public ShardedAdamW(Communicator communicator, RewardModel model)
    {
        _comm = communicator ?? throw new ArgumentNullException(nameof(communicator));
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Layout = new ShardLayout(model.ParameterValues.Count, communicator.Size, communicator.Rank);
        if (Layout.PerRank == 0)
            throw new ArgumentException($"a model of {Layout.Total} elements cannot be sharded over {Layout.Ranks} ranks", nameof(model));
        WorldPMContext context = communicator.Context;
        _gradientBlock = model.AllocateGradients(Layout.PerRank);
        _masterBlock = context.Allocate<float>(Layout.PerRank);
        _m = context.Allocate<float>(Layout.OwnedCount);
        _v = context.Allocate<float>(Layout.OwnedCount);
        _m.Fill(0);
        _v.Fill(0);
        _gradientBlocks = Own(model.GradientSlice(0, Layout.TailStart));
        _gradientTail = Layout.TailCount > 0 ? Own(model.GradientSlice(Layout.TailStart, Layout.TailCount)) : null;
        _masterBlocks = Own(model.ParameterValues.View(0, Layout.TailStart));
        _ownMasters = Own(model.ParameterValues.View(Layout.Start, Layout.PerRank));
        IReadOnlyList<Parameter> parameters = model.Parameters;
        foreach (ShardPiece piece in Layout.Pieces([.. parameters.Select(p => (p.Offset, p.Count))]))
        {
            DeviceBuffer gradient = piece.InTail
                ? model.GradientSlice(piece.FlatOffset, piece.Count)
                : _gradientBlock.Slice(piece.FlatOffset - Layout.Start, piece.Count);
            var tensor = new AdamWTensor(Own(model.ParameterValues.View(piece.FlatOffset, piece.Count)), Own(gradient),
                Own(_m.View(piece.OwnedOffset, piece.Count)), Own(_v.View(piece.OwnedOffset, piece.Count)))
            {
                Decay = parameters[piece.Tensor].Decay,
            };
            _tensors.Add(tensor);
        }
    }

    public ShardLayout Layout { get; }

    /// <summary>The AdamW tensors of the parameters this rank owns (fp32 masters only: the working weights are rounded
    /// after <see cref="GatherParameters"/>).</summary>
    public IReadOnlyList<AdamWTensor> Tensors => _tensors;

    /// <summary>After the backward: this rank's block gets the mean over ranks of the gradients; so does the tail.</summary>
    public void ReduceGradients()
    {
        _comm.ReduceScatter(_gradientBlocks, _gradientBlock, ReduceOp.Mean);
        if (_gradientTail is not null) _comm.AllReduce(_gradientTail, ReduceOp.Mean);
    }

    /// <summary>The reduced gradients this rank holds: its block, then the tail when <paramref name="withTail"/>.</summary>
    public IReadOnlyList<DeviceBuffer> OwnedGradients(bool withTail) =>
        withTail && _gradientTail is not null ? [_gradientBlock, _gradientTail] : [_gradientBlock];

    /// <summary>After the AdamW step on <see cref="Tensors"/>: every rank's masters get every block, and the working
    /// weights are rounded from them.</summary>
    public void GatherParameters()
    {
        _masterBlock.CopyFrom(_ownMasters);
        _comm.AllGather(_masterBlock, _masterBlocks);
        _model.SyncWorkingWeights();
    }

    /// <summary>The first and second moments of every element of the flat parameter buffer (a collective: every rank
    /// calls it and every rank gets them).</summary>
    public (float[] M, float[] V) GatherMoments() => (Gather(_m), Gather(_v));

    /// <summary>Takes this rank's part of whole-buffer moments (laid out like <see cref="RewardModel.ParameterValues"/>).</summary>
    public void RestoreMoments(float[] m, float[] v)
    {
        Scatter(m, _m);
        Scatter(v, _v);
    }

    private float[] Gather(DeviceBuffer<float> owned)
    {
        var whole = new float[Layout.Total];
        using (DeviceBuffer<float> gathered = _comm.Context.Allocate<float>(Layout.TailStart))
        {
            using (DeviceBuffer<float> block = owned.View(0, Layout.PerRank))
                _comm.AllGather(block, gathered);
            gathered.CopyTo(whole.AsSpan(0, checked((int)Layout.TailStart)));
        }
        if (Layout.TailCount > 0) owned.CopyTo(whole.AsSpan(checked((int)Layout.TailStart)), offset: Layout.PerRank);
        return whole;
    }

    private void Scatter(float[] whole, DeviceBuffer<float> owned)
    {
        if (whole.Length != Layout.Total)
            throw new ArgumentException($"moments of {whole.Length} elements; the model has {Layout.Total}", nameof(whole));
        owned.CopyFrom(whole.AsSpan(checked((int)Layout.Start), checked((int)Layout.PerRank)));
        if (Layout.TailCount > 0) owned.CopyFrom(whole.AsSpan(checked((int)Layout.TailStart)), offset: Layout.PerRank);
    }

    private T Own<T>(T view) where T : DeviceBuffer
    {
        _views.Add(view);
        return view;
    }

    public void Dispose()
    {
        foreach (DeviceBuffer view in _views) view.Dispose();
        _views.Clear();
        _gradientBlock.Dispose();
        _masterBlock.Dispose();
        _m.Dispose();
        _v.Dispose();
    }
}
