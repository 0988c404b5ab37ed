using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>The two reductions a step runs over gradient buffers before it may use them: the inf/NaN check and the
/// L2 norm, each into a one-element device buffer read back to the host.</summary>
internal sealed class GradientChecks : IDisposable
{
    private readonly WorldPMContext _context;
    private readonly DeviceBuffer<float> _foundInf;
    private readonly DeviceBuffer<float> _norm;

    public GradientChecks(WorldPMContext context)
    {
        _context = context;
        _foundInf = context.Allocate<float>(1);
        _norm = context.Allocate<float>(1);
    }

    /// <summary>Whether any element of <paramref name="gradients"/> is inf or NaN (a check only: scale 1 leaves the
    /// values as they are).</summary>
    public bool AnyNonFinite(IReadOnlyList<DeviceBuffer> gradients)
    {
        Ops.ScaleCheckFinite(_context, gradients, 1f, _foundInf);
        return _foundInf.ToArray()[0] != 0;
    }

    /// <summary>The L2 norm of all elements of <paramref name="gradients"/> together.</summary>
    public double Norm(IReadOnlyList<DeviceBuffer> gradients)
    {
        Ops.GlobalNorm(_context, gradients, _norm);
        return _norm.ToArray()[0];
    }

    public void Dispose()
    {
        _foundInf.Dispose();
        _norm.Dispose();
    }
}
