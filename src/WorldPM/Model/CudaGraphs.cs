namespace WorldPM.Model;

/// <summary>
/// Whether <see cref="RewardModel.Score(SequenceBatch)"/> records its forward into a device graph and replays it while
/// batch shapes repeat (<see cref="WorldPM.Native.DeviceGraph"/>): the forward's launches then cost one graph launch
/// instead of one host call each.
/// </summary>
public enum CudaGraphs
{
    /// <summary>On on cuda, where it saves launch overhead; off on cpu (no graphs) and emu (nothing to save there:
    /// On on emu is for tests, which prove the forward capturable).</summary>
    Auto,

    /// <summary>Always (a cuda or emu model; refused on cpu).</summary>
    On,

    /// <summary>Never: every forward runs its calls one by one.</summary>
    Off,
}
