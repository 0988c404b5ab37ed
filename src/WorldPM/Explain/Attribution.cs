namespace WorldPM.Explain;

/// <summary>
/// A per-unit attribution of one sequence's reward by <see cref="Method"/> (<see cref="AttributionMethods.Names"/>),
/// with the settings it ran with (integration steps or permutation samples, 0 where none apply) and, where the method
/// has one, the check of its sum.
/// </summary>
public sealed record Attribution(string Method, int Steps, double Reward, IReadOnlyList<AttributionUnit> Units,
    AttributionCheck? Check);
