using WorldPM.Checkpoints;
using WorldPM.Model;
using WorldPM.Native;

namespace WorldPM.Training;

/// <summary>
/// The gradient path of one process: nothing to exchange; AdamW moments for every parameter. The AdamW pass reads
/// the f16/bf16 gradients, updates the fp32 masters and, where the working copy is not the master itself, writes
/// the rounded working copy in the same pass.
/// </summary>
internal class LocalGradients : IGradientSync
{
    private readonly WorldPMContext _context;
    private readonly RewardModel _model;
    private readonly List<AdamWTensor> _tensors;
    private readonly IReadOnlyList<DeviceBuffer> _gradientTensors;

    public LocalGradients(WorldPMContext context, RewardModel model)
    {
        _context = context;
        _model = model;
        _tensors = model.Parameters.Select(p =>
        {
            DeviceBuffer<float> m = context.Allocate<float>(p.Value.Count), v = context.Allocate<float>(p.Value.Count);
            m.Fill(0);
            v.Fill(0);
            // In fp32 the master is the working copy; otherwise AdamW rewrites the f16/bf16 copy in the same pass.
            DeviceBuffer? working = ReferenceEquals(p.Working, p.Value) ? null : p.Working;
            return new AdamWTensor(p.Value, p.Grad, m, v) { Decay = p.Decay, Working = working };
        }).ToList();
        _gradientTensors = [.. model.Parameters.Select(p => (DeviceBuffer)p.Grad)];
    }

    public bool SavesCollectively => false;

    public virtual Action<long>? BeginExchange(bool lastMicroBatch) => null;

    public virtual void FinishExchange(StepMetricsBuffer metrics) { }

    public virtual StepSums ReadMetrics(StepMetricsBuffer metrics) => metrics.Read();

    public void CheckGradients(StepMetricsBuffer metrics) =>
        GradientChecks.Run(_context, [_model.ParameterGradients], _gradientTensors, metrics.NonFinite, metrics.Norm);

    public void UpdateWeights(AdamWSettings settings, AdamWStepValues stepValues, DeviceBuffer<float> gradientCheck) =>
        Ops.AdamWStep(_context, _tensors, settings, step: 1, gradientCheck, stepValues);

    public (TensorData M, TensorData V) Moments(int index, string firstName, string secondName)
    {
        long[] shape = [.. _model.Parameters[index].Shape];
        return (TensorData.FromBuffer(firstName, shape, _tensors[index].M), TensorData.FromBuffer(secondName, shape, _tensors[index].V));
    }

    public void RestoreMoments(IReadOnlyList<(TensorData M, TensorData V)> moments)
    {
        for (int i = 0; i < _tensors.Count; i++)
        {
            moments[i].M.CopyTo(_tensors[i].M);
            moments[i].V.CopyTo(_tensors[i].V);
        }
    }

    public void Dispose()
    {
        foreach (AdamWTensor t in _tensors)
        {
            t.M.Dispose();
            t.V.Dispose();
        }
    }
}
