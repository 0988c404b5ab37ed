namespace WorldPM.Losses;

/// <summary>
/// The per-pair part of a loss that depends on the pair only through its reward gap (chosen minus rejected) and its
/// margin: the loss of one pair and its slope, d loss / d gap. <see cref="KernelLoss{TTerm}"/> compiles an
/// implementation into an ILGPU kernel, so the methods must use only what ILGPU translates (arithmetic, MathF,
/// the struct's own fields) and the struct must hold plain values.
/// </summary>
public interface IPairLossTerm
{
    /// <summary>The loss of a pair whose chosen response leads by <paramref name="gap"/>.</summary>
    float Loss(float gap, float margin);

    /// <summary>d <see cref="Loss"/> / d <paramref name="gap"/>.</summary>
    float Slope(float gap, float margin);
}
