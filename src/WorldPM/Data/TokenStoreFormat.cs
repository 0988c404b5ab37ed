using System.Buffers.Binary;
using WorldPM.Evaluation;

namespace WorldPM.Data;

/// <summary>
/// The layout of a token store file (docs/token-store.md): a fixed header, then the token array, the per-sequence
/// offsets, the pair index and a JSON metadata block, all little-endian. The header says where each section starts;
/// <see cref="TokenStore"/> checks it against the file's length on open and every offset and id on access. Version 2
/// adds a section of the responses' style counts after the pair index (<see cref="StyleRecordBytes"/>); a version 1
/// store has none and still reads.
/// </summary>
public static class TokenStoreFormat
{
    /// <summary>The first eight bytes of every store: what <see cref="TokenStore.IsTokenStore"/> tells a store by.</summary>
    public static ReadOnlySpan<byte> Magic => "WPMTOKS\0"u8;

    /// <summary>The layout version this code writes.</summary>
    public const uint Version = 2;

    /// <summary>The oldest layout version this code reads: version 1, the same but without the style counts.</summary>
    public const uint OldestReadableVersion = 1;

    /// <summary>Bytes of the header.</summary>
    public const int HeaderBytes = 128;

    /// <summary>Bytes of one pair record in the pair index.</summary>
    public const int PairRecordBytes = 48;

    /// <summary>Bytes of one pair's style counts: <see cref="StyleCountsRecord"/> of the chosen, then of the rejected response.</summary>
    public const int StyleRecordBytes = 2 * StyleCountsRecord.Bytes;

    /// <summary>Bytes of one sequence offset (an index into the token array).</summary>
    public const int OffsetBytes = 8;

    /// <summary>The largest vocabulary whose ids fit two bytes; larger ones are stored as four.</summary>
    public const int TwoByteVocabulary = 1 << 16;

    /// <summary>Bytes per token id for a vocabulary of <paramref name="vocabSize"/> ids.</summary>
    public static int TokenWidth(int vocabSize) => vocabSize <= TwoByteVocabulary ? 2 : 4;

    /// <summary>A pair record's flag: the pair has a margin.</summary>
    public const int HasMarginFlag = 1;

    /// <summary>A pair record's flag: the template cut the shared prompt.</summary>
    public const int PromptTruncatedFlag = 2;

    /// <summary>A pair record's flag: the template cut a response.</summary>
    public const int ResponseTruncatedFlag = 4;

    /// <summary>The fixed fields of a store's header.</summary>
    public readonly record struct Header(
        uint Version, int TokenWidth, int MaxLength, int VocabSize, long Pairs, long Sequences, long Tokens,
        long TokensAt, long OffsetsAt, long PairsAt, long MetadataAt, long MetadataBytes, long DataFingerprint, long FileBytes,
        long StyleAt)
    {
        /// <summary>Whether the store has the style counts section (version 2 and later).</summary>
        public bool HasStyle => Version >= 2;

        public void WriteTo(Span<byte> bytes)
        {
            bytes[..HeaderBytes].Clear();
            Magic.CopyTo(bytes);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], Version);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[12..], TokenWidth);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[16..], MaxLength);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[20..], VocabSize);
            long[] fields = [Pairs, Sequences, Tokens, TokensAt, OffsetsAt, PairsAt, MetadataAt, MetadataBytes, DataFingerprint, FileBytes, StyleAt];
            for (int i = 0; i < fields.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes[(24 + 8 * i)..], fields[i]);
        }

        /// <summary>The header's fields; the magic is checked by the caller, which names the file.</summary>
        public static Header ReadFrom(ReadOnlySpan<byte> bytes)
        {
            var f = new long[11];
            for (int i = 0; i < f.Length; i++) f[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(24 + 8 * i)..]);
            return new Header(BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]), BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]),
                BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]), BinaryPrimitives.ReadInt32LittleEndian(bytes[20..]),
                f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]);
        }
    }

    /// <summary>One entry of the pair index: its two sequences, weight, margin, untruncated response lengths (-1 when
    /// unknown), source file and subset (-1: none) and flags.</summary>
    public readonly record struct PairRecord(
        long Chosen, long Rejected, float Weight, float Margin, int ChosenResponseTokens, int RejectedResponseTokens,
        int Source, int Subset, int Flags)
    {
        public void WriteTo(Span<byte> bytes)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes, Chosen);
            BinaryPrimitives.WriteInt64LittleEndian(bytes[8..], Rejected);
            BinaryPrimitives.WriteSingleLittleEndian(bytes[16..], Weight);
            BinaryPrimitives.WriteSingleLittleEndian(bytes[20..], Margin);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[24..], ChosenResponseTokens);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[28..], RejectedResponseTokens);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[32..], Source);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[36..], Subset);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[40..], Flags);
            BinaryPrimitives.WriteInt32LittleEndian(bytes[44..], 0);
        }

        public static PairRecord ReadFrom(ReadOnlySpan<byte> bytes) => new(
            BinaryPrimitives.ReadInt64LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]),
            BinaryPrimitives.ReadSingleLittleEndian(bytes[16..]), BinaryPrimitives.ReadSingleLittleEndian(bytes[20..]),
            BinaryPrimitives.ReadInt32LittleEndian(bytes[24..]), BinaryPrimitives.ReadInt32LittleEndian(bytes[28..]),
            BinaryPrimitives.ReadInt32LittleEndian(bytes[32..]), BinaryPrimitives.ReadInt32LittleEndian(bytes[36..]),
            BinaryPrimitives.ReadInt32LittleEndian(bytes[40..]));
    }

    /// <summary>One response's <see cref="StyleCounts"/> in a store: its eight counts as int32, in the record's order.</summary>
    public static class StyleCountsRecord
    {
        public const int Bytes = 8 * 4;

        public static void WriteTo(StyleCounts counts, Span<byte> bytes)
        {
            int[] fields = [counts.Characters, counts.Headers, counts.ListItems, counts.Bold, counts.Italic, counts.CodeBlocks, counts.Links, counts.Emoji];
            for (int i = 0; i < fields.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes[(4 * i)..], fields[i]);
        }

        /// <summary>The counts, or null when one is negative (a damaged record; the caller names the file and pair).</summary>
        public static StyleCounts? ReadFrom(ReadOnlySpan<byte> bytes)
        {
            Span<int> f = stackalloc int[8];
            for (int i = 0; i < f.Length; i++)
                if ((f[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(4 * i)..])) < 0) return null;
            return new StyleCounts(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
        }
    }
}
