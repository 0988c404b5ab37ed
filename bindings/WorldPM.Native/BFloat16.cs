using System.Globalization;

namespace WorldPM.Native;

/// <summary>
/// The bfloat16 storage type: the top 16 bits of an IEEE binary32 (1 sign, 8 exponent, 7 mantissa bits),
/// as the GPU kernels and <see cref="DType.BF16"/> buffers store it. Widening to float is exact;
/// narrowing from float rounds to nearest, ties to even, and keeps NaN a (quiet) NaN.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    private BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw 16 bits.</summary>
    public ushort Bits { get; }

    /// <summary>The value with these raw bits.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Rounds a float to the nearest bfloat16, ties to even (overflow gives infinity).</summary>
    public static explicit operator BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Truncating could clear every mantissa bit left and turn NaN into infinity: set the quiet bit.
            return new BFloat16((ushort)((bits >> 16) | 0x0040));
        }
        // Adding 0x7fff rounds up exactly when the dropped half is above one half; the low kept bit breaks ties
        // toward even. A carry into the exponent is the correct rounding (up to infinity past the largest finite).
        uint roundingBias = 0x7fffu + ((bits >> 16) & 1u);
        return new BFloat16((ushort)((bits + roundingBias) >> 16));
    }

    /// <summary>The exact float value.</summary>
    public static implicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    /// <summary>Bitwise equality (so NaN equals the same NaN, and +0 differs from -0).</summary>
    public bool Equals(BFloat16 other) => Bits == other.Bits;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Bits;

    /// <summary>The float value, formatted.</summary>
    public override string ToString() => ((float)this).ToString(CultureInfo.InvariantCulture);
}
