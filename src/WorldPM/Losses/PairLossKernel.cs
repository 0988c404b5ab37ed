using ILGPU;

namespace WorldPM.Losses;

/// <summary>
/// The ILGPU kernel of every <see cref="KernelLoss{TTerm}"/>: one thread per pair. Inputs and outputs share one
/// buffer of <see cref="Slots"/> x P floats, so a launch moves one array each way: chosen, rejected, margin, weight,
/// then the outputs w * loss and w * slope. The mean and the 1 / sum(w) of the gradient are the host's (P numbers).
/// </summary>
internal static class PairLossKernel
{
    public const int Slots = 6;
    public const int InputSlots = 4;

    public static void Run<TTerm>(Index1D i, TTerm term, ArrayView<float> packed, int pairs)
        where TTerm : unmanaged, IPairLossTerm
    {
        float gap = packed[i] - packed[pairs + i];
        float margin = packed[2 * pairs + i];
        float weight = packed[3 * pairs + i];
        packed[4 * pairs + i] = weight * term.Loss(gap, margin);
        packed[5 * pairs + i] = weight * term.Slope(gap, margin);
    }
}
