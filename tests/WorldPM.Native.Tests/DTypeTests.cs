using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native.Tests;

/// <summary>
/// <see cref="DType"/> is the C ABI's wpm_dtype itself (it crosses as int, value for value; HeaderCoverageTests
/// compares the enumerators): every value means the same element type on both sides.
/// </summary>
[TestFixture]
public sealed unsafe class DTypeTests
{
    public static IEnumerable<DType> EveryDType() => Enum.GetValues<DType>();

    [TestCaseSource(nameof(EveryDType))]
    public void HasTheLibrarysElementSize(DType dtype)
    {
        Assert.That(DTypes.SizeOf(dtype), Is.EqualTo((int)NativeMethods.wpm_dtype_size(dtype)).And.GreaterThan(0));
    }

    [TestCaseSource(nameof(EveryDType))]
    public void ComesBackFromTheLibraryAsTheSameDType(DType dtype)
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        nint buffer;
        Check(NativeMethods.wpm_buffer_alloc(Ptr(context), dtype, 3, &buffer));
        try
        {
            DType stored;
            nuint count;
            Check(NativeMethods.wpm_buffer_info(buffer, &stored, &count));
            Assert.That((stored, count), Is.EqualTo((dtype, (nuint)3)));
        }
        finally
        {
            Check(NativeMethods.wpm_buffer_free(buffer));
        }
    }

    [Test]
    public void EveryElementTypeMapsToTheDTypeOfItsName()
    {
        Assert.That(new[] { DTypes.Of<float>(), DTypes.Of<Half>(), DTypes.Of<BFloat16>(), DTypes.Of<int>() },
            Is.EqualTo(new[] { DType.F32, DType.F16, DType.BF16, DType.I32 }));
        Assert.That(EveryDType(), Has.Exactly(4).Items, "a new dtype needs its element type above");
    }
}
