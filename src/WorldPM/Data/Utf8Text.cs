using System.Text;
using System.Text.Unicode;

namespace WorldPM.Data;

/// <summary>
/// The UTF-8 rule of the data readers: a record holding bytes that are not UTF-8 is a bad record, because replacing
/// them would train on text nobody wrote; with <see cref="DataLoadOptions.LenientUtf8"/> they become U+FFFD instead.
/// </summary>
internal static class Utf8Text
{
    /// <summary>
    /// Null when <paramref name="bytes"/> may be used: valid UTF-8 (<paramref name="replaced"/> null), or invalid and
    /// <paramref name="lenient"/> (<paramref name="replaced"/> the text with U+FFFD in place of the bad bytes).
    /// Otherwise the bad-record reason, naming the first bad byte's offset.
    /// </summary>
    public static string? Decode(ReadOnlySpan<byte> bytes, bool lenient, out string? replaced)
    {
        replaced = null;
        if (Utf8.IsValid(bytes)) return null;
        if (lenient)
        {
            replaced = Encoding.UTF8.GetString(bytes);
            return null;
        }
        int at = FirstInvalid(bytes);
        return $"invalid UTF-8 (byte 0x{bytes[at]:X2} at offset {at} of the record); --lenient-utf8 reads such bytes as U+FFFD";
    }

    private static int FirstInvalid(ReadOnlySpan<byte> bytes)
    {
        Utf8.ToUtf16(bytes, new char[bytes.Length], out int valid, out _, replaceInvalidSequences: false);
        return valid;
    }
}
