using WorldPM.Native;

namespace WorldPM.Model;

/// <summary>
/// Each sequence's scoring row (its last valid token) picked out of, and put back into, a token-level tensor
/// [N, width] (padded N = B T, packed the stream), by the arena's <see cref="ActivationArena{T}.ScoringRows"/> index: the row ops of the
/// C ABI, which read no lengths and need nothing back on the host.
/// </summary>
internal static class ScoringRows
{
    /// <summary>picked [B, width] = the scoring rows of all [N, width].</summary>
    public static void Gather<T>(WorldPMContext context, ActivationArena<T> arena, DeviceBuffer<T> all,
        DeviceBuffer<T> picked, long width) where T : unmanaged
    {
        BatchShape s = arena.Shape;
        Ops.RowsGather(context, all, arena.ScoringRows, picked, s.B, s.N, width);
    }

    /// <summary>all [N, width] = <paramref name="picked"/> [B, width] at the scoring rows, 0 everywhere else (bit for
    /// bit the picked rows: 0 + x is exact).</summary>
    public static void ScatterIntoZeros<T>(WorldPMContext context, ActivationArena<T> arena, DeviceBuffer<T> picked,
        DeviceBuffer<T> all, long width) where T : unmanaged
    {
        BatchShape s = arena.Shape;
        all.Fill(0);
        Ops.RowsScatterAdd(context, picked, arena.ScoringRows, all, s.B, s.N, width);
    }
}
