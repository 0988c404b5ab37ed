using System.Globalization;

namespace WorldPM.Cli;

/// <summary>
/// Sizes as people write them on a command line: a number with an optional unit, decimal (kB, MB, GB, TB: powers
/// of 1000, as Hugging Face's <c>max_shard_size</c> reads them) or binary (KiB, MiB, GiB, TiB: powers of 1024); no
/// unit, or B, is bytes. Units are case-insensitive, a space before them is allowed, fractions are allowed
/// ("1.5GB"), and the result is rounded down to whole bytes.
/// </summary>
internal static class ByteSizeText
{
    private static readonly (string Unit, double Bytes)[] Units =
    [
        ("KIB", 1L << 10), ("MIB", 1L << 20), ("GIB", 1L << 30), ("TIB", 1L << 40),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
    ];

    /// <summary>The byte count <paramref name="text"/> spells, or false when it is not a size of at least one byte.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        string trimmed = text.Trim();
        double scale = 1;
        foreach (var (unit, size) in Units)
        {
            if (!trimmed.EndsWith(unit, StringComparison.OrdinalIgnoreCase)) continue;
            trimmed = trimmed[..^unit.Length].TrimEnd();
            scale = size;
            break;
        }
        if (!double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
            return false;
        double total = Math.Floor(number * scale);
        if (total < 1 || total >= long.MaxValue) return false;
        bytes = (long)total;
        return true;
    }
}
