namespace WorldPM.Tests.Fuzzing;

/// <summary>
/// Seeded mutations of a seed file, the kinds a damaged download or a careless edit makes: bit flips, bytes
/// replaced by ones a parser cares about, runs inserted, deleted or repeated, a splice with another seed, and a
/// cut at any point. One <see cref="Random"/> drives everything, so a seed reproduces a run exactly.
/// </summary>
internal sealed class ByteMutator(Random random)
{
    // Bytes and tokens that steer the formats' parsers: JSON and XML syntax, number edge cases, a gzip magic.
    private static readonly byte[][] Tokens =
    [
        "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), "\""u8.ToArray(), ","u8.ToArray(),
        ":"u8.ToArray(), "null"u8.ToArray(), "-1"u8.ToArray(), "0"u8.ToArray(), "1e309"u8.ToArray(),
        "2147483648"u8.ToArray(), "9223372036854775808"u8.ToArray(), "-9223372036854775809"u8.ToArray(), "\\u0000"u8.ToArray(),
        "<"u8.ToArray(), ">"u8.ToArray(), "&amp;"u8.ToArray(), "<!DOCTYPE x>"u8.ToArray(), "\n"u8.ToArray(),
        [0x1F, 0x8B], [0xFF, 0xFF, 0xFF, 0xFF], [0x00], [0xC3], "PAR1"u8.ToArray(),
    ];

    public byte[] Mutate(byte[] seed, IReadOnlyList<byte[]> others)
    {
        var bytes = new List<byte>(seed);
        int steps = 1 + random.Next(4);
        for (int i = 0; i < steps; ++i)
            Step(bytes, others);
        return [.. bytes];
    }

    private void Step(List<byte> bytes, IReadOnlyList<byte[]> others)
    {
        int at = random.Next(bytes.Count + 1);
        switch (random.Next(8))
        {
            case 0 when bytes.Count > 0:
                at = random.Next(bytes.Count);
                bytes[at] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when bytes.Count > 0:
                bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                break;
            case 2:
                bytes.InsertRange(at, Tokens[random.Next(Tokens.Length)]);
                break;
            case 3 when bytes.Count > 0:
            {
                int from = random.Next(bytes.Count);
                bytes.RemoveRange(from, Math.Min(1 + random.Next(16), bytes.Count - from));
                break;
            }
            case 4 when bytes.Count > 0:
            {
                int from = random.Next(bytes.Count), length = Math.Min(1 + random.Next(64), bytes.Count - from);
                bytes.InsertRange(at, bytes.GetRange(from, length));
                break;
            }
            case 5 when others.Count > 0:
            {
                var other = others[random.Next(others.Count)];
                int from = random.Next(other.Length + 1);
                bytes.RemoveRange(at, bytes.Count - at);
                bytes.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 6:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            default:
            {
                var run = new byte[1 + random.Next(8)];
                random.NextBytes(run);
                bytes.InsertRange(at, run);
                break;
            }
        }
    }
}
