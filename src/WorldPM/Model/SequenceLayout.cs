namespace WorldPM.Model;

/// <summary>How a <see cref="SequenceBatch"/> lays its sequences out in the token rows the model runs.</summary>
public enum SequenceLayout
{
    /// <summary>B rows of T positions, each sequence at the start of its row and padding after it: B T token rows,
    /// of which the padding ones cost as much as real ones.</summary>
    Padded,

    /// <summary>The sequences end to end in one stream of real tokens only (FlashAttention's varlen convention:
    /// offsets cu_seqlens, positions restarting at 0 per sequence, attention never crossing a sequence).</summary>
    Packed,
}
