using System.Runtime.InteropServices;
using WorldPM.Checkpoints;
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
/// Checkpoints hold the moments whole, named and shaped as without ZeRO-1: a run can resume with any rank count, with
/// or without ZeRO-1. Writing them gathers each piece from the rank that owns it through a small device staging
/// buffer (<see cref="Moments"/>), a collective per piece, so no rank ever holds more than its share plus that piece;
/// restoring copies each rank's share straight from the file (<see cref="RestoreMoments"/>).
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
    private readonly IReadOnlyList<ShardPiece> _pieces;
    /// <summary>Where a piece of the moments goes from its owner to every rank while a checkpoint is written; made by
    /// the first save.</summary>
    private DeviceBuffer<float>? _staging;

    /// <summary>Elements per gathered piece: the writer's own pieces (4 MiB) need one.</summary>
    private const int StagingElements = 1 << 20;
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
        _pieces = Layout.Pieces([.. parameters.Select(p => (p.Offset, p.Count))]);
        foreach (ShardPiece piece in _pieces)
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

    /// <summary>Parameter <paramref name="index"/>'s first and second moments, whole, as F32 tensors that gather each
    /// piece a writer asks for from the rank that owns it (a collective: every rank reads the same pieces in the same
    /// order, and every rank gets them).</summary>
    public (TensorData M, TensorData V) Moments(int index, string firstName, string secondName)
    {
        Parameter p = _model.Parameters[index];
        return (Gathered(firstName, p, _m), Gathered(secondName, p, _v));
    }

    /// <summary>Takes this rank's share of every parameter's moments (one pair per parameter, in the model's order).</summary>
    public void RestoreMoments(IReadOnlyList<(TensorData M, TensorData V)> moments)
    {
        foreach (ShardPiece piece in _pieces)
        {
            using (DeviceBuffer<float> m = _m.View(piece.OwnedOffset, piece.Count))
                moments[piece.Tensor].M.CopyTo(m, piece.TensorOffset);
            using (DeviceBuffer<float> v = _v.View(piece.OwnedOffset, piece.Count))
                moments[piece.Tensor].V.CopyTo(v, piece.TensorOffset);
        }
    }

    private TensorData Gathered(string name, Parameter p, DeviceBuffer<float> owned) =>
        TensorData.Streamed(name, TensorDType.F32, [.. p.Shape], (offset, destination) =>
            Gather(owned, p.Offset + offset / sizeof(float), MemoryMarshal.Cast<byte, float>(destination)));

    /// <summary>Elements [<paramref name="flatStart"/>, <paramref name="flatStart"/> + <paramref name="destination"/>.Length)
    /// of the whole moments whose owned part is <paramref name="owned"/>: each block's piece broadcast by its owner, the
    /// tail (which every rank holds) copied.</summary>
    private void Gather(DeviceBuffer<float> owned, long flatStart, Span<float> destination)
    {
        _staging ??= _comm.Context.Allocate<float>(StagingElements);
        for (int done = 0; done < destination.Length;)
        {
            long flat = flatStart + done;
            Span<float> rest = destination[done..];
            if (flat >= Layout.TailStart)
            {
                owned.CopyTo(rest, offset: Layout.PerRank + flat - Layout.TailStart);
                return;
            }
            int owner = (int)(flat / Layout.PerRank);
            int count = (int)Math.Min(Math.Min(rest.Length, (owner + 1) * Layout.PerRank - flat), StagingElements);
            using (DeviceBuffer<float> piece = _staging.View(0, count))
            {
                if (owner == Layout.Rank)
                {
                    using DeviceBuffer<float> mine = owned.View(flat - Layout.Start, count);
                    piece.CopyFrom(mine);
                }
                _comm.Broadcast(piece, root: owner);
                piece.CopyTo(rest[..count]);
            }
            done += count;
        }
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
        _staging?.Dispose();
    }
}
