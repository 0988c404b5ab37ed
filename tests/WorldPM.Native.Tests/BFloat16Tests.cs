using WorldPM.Native.Tests.Support;

namespace WorldPM.Native.Tests;

/// <summary>BFloat16 conversions against a reference that rounds by comparing distances in double.</summary>
[TestFixture]
public sealed class BFloat16Tests
{
    /// <summary>The nearest bfloat16 of a finite float, ties to the even mantissa, decided by distances in
    /// double (independent of the bit trick under test). Values past the largest finite round to infinity
    /// when they are at least halfway to 2^128, as IEEE rounding does.</summary>
    private static ushort ReferenceBits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        ushort down = (ushort)(bits >> 16);              // toward zero
        ushort up = (ushort)(down + 1);                  // away from zero (the next magnitude)
        double x = Math.Abs((double)value);
        double low = Math.Abs((double)BitConverter.UInt32BitsToSingle((uint)down << 16));
        double high = (up & 0x7fff) == 0x7f80 ? Math.Pow(2, 128) : Math.Abs((double)BitConverter.UInt32BitsToSingle((uint)up << 16));
        if (x - low < high - x) return down;
        if (x - low > high - x) return up;
        return (down & 1) == 0 ? down : up;
    }

    private static IEnumerable<float> Samples()
    {
        var random = new Random(12345);
        for (int i = 0; i < 200_000; i++)
        {
            uint bits = (uint)random.NextInt64(0, 1L << 32);
            float f = BitConverter.UInt32BitsToSingle(bits);
            if (float.IsFinite(f)) yield return f;
        }
        foreach (uint special in new uint[] { 0, 0x80000000, 0x00000001, 0x007fffff, 0x3f808000, 0x3f818000, 0x7f7fffff, 0x7f7f8000, 0x7f7f7fff })
            yield return BitConverter.UInt32BitsToSingle(special);
    }

    [Test]
    public void NarrowingRoundsToTheNearestValueWithTiesToEven()
    {
        var wrong = Samples().Where(f => ((BFloat16)f).Bits != ReferenceBits(f))
            .Select(f => $"{BitConverter.SingleToUInt32Bits(f):x8}").Take(5);
        Assert.That(wrong, Is.Empty);
    }

    [TestCase(0x3f808000u, (ushort)0x3f80)] // 1 + 2^-8: a tie, mantissa of 0x3f80 is even: stays
    [TestCase(0x3f818000u, (ushort)0x3f82)] // a tie from an odd mantissa: rounds up to even
    [TestCase(0x3f808001u, (ushort)0x3f81)] // just past the tie: rounds up
    [TestCase(0x7f7fffffu, (ushort)0x7f80)] // float.MaxValue: past the largest bfloat16, rounds to infinity
    [TestCase(0xff800000u, (ushort)0xff80)] // -infinity stays
    public void KnownRoundings(uint floatBits, ushort expected)
    {
        Assert.That(((BFloat16)BitConverter.UInt32BitsToSingle(floatBits)).Bits, Is.EqualTo(expected));
    }

    [Test]
    public void WideningIsExactForEveryBitPattern()
    {
        var wrong = Enumerable.Range(0, 1 << 16).Select(i => (ushort)i)
            .Where(bits => !float.IsNaN(BFloat16.FromBits(bits)) && ((BFloat16)(float)BFloat16.FromBits(bits)).Bits != bits);
        Assert.That(wrong, Is.Empty);
    }

    [TestCase(0x7fc00000u)]
    [TestCase(0x7f800001u)] // a NaN whose payload lies only in the dropped bits: truncation would make infinity
    [TestCase(0xff800001u)]
    public void NaNStaysNaN(uint nanBits)
    {
        Assert.That(float.IsNaN((BFloat16)BitConverter.UInt32BitsToSingle(nanBits)));
    }

    [Test]
    public void EqualityIsBitwise()
    {
        Assert.That((BFloat16)1.5f, Is.EqualTo((BFloat16)1.5f));
        Assert.That((BFloat16)0f, Is.Not.EqualTo((BFloat16)(-0f)));
    }

    [Test]
    public void TheNativeCastToBF16AgreesWithTheManagedConversion()
    {
        using var arena = new Arena();
        float[] values = Reference.Random(99, 4096, -1e4, 1e4);
        var source = arena.Upload(values);
        var target = arena.Buffer<BFloat16>(values.Length);

        Ops.Cast(arena.Context, source, target);

        Assert.That(target.ToArray().Select(v => v.Bits), Is.EqualTo(values.Select(v => ((BFloat16)v).Bits)));
    }
}
