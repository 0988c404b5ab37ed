using WorldPM.Native.Tests.Support;

namespace WorldPM.Native.Tests;

/// <summary>Device buffers: shapes, host round trips for every dtype, views, fills and their determinism,
/// and use after Dispose.</summary>
[TestFixture]
public sealed class BufferTests
{
    private Arena arena = null!;

    [SetUp]
    public void CreateArena() => arena = new Arena();

    [TearDown]
    public void DisposeArena() => arena.Dispose();

    private void AssertRoundTrip<T>(T[] values) where T : unmanaged
    {
        var buffer = arena.Buffer<T>(values.Length);
        buffer.CopyFrom(values);
        Assert.That(buffer.ToArray(), Is.EqualTo(values));
    }

    [Test]
    public void AnF32BufferReturnsWhatWasWritten() => AssertRoundTrip(Reference.Random(1, 37));

    [Test]
    public void AnF16BufferReturnsWhatWasWritten() =>
        AssertRoundTrip(Reference.Random(2, 37).Select(v => (Half)v).ToArray());

    [Test]
    public void ABF16BufferReturnsWhatWasWritten() =>
        AssertRoundTrip(Reference.Random(3, 37).Select(v => (BFloat16)v).ToArray());

    [Test]
    public void AnI32BufferReturnsWhatWasWritten() =>
        AssertRoundTrip(Enumerable.Range(-18, 37).Select(i => i * 1_000_003).ToArray());

    [Test]
    public void TheElementTypeDeterminesTheDType()
    {
        Assert.That(new DType[] { arena.F32(1).DType, arena.F16(1).DType, arena.Buffer<BFloat16>(1).DType, arena.I32(1).DType },
            Is.EqualTo(new[] { DType.F32, DType.F16, DType.BF16, DType.I32 }));
    }

    [Test]
    public void AnUnsupportedElementTypeIsRefused()
    {
        Assert.Throws<NotSupportedException>(() => arena.Context.Allocate<long>(4));
    }

    [Test]
    public void ABufferHasTheShapeItWasAllocatedWith()
    {
        var buffer = arena.F32(2, 3, 4);
        Assert.That(buffer.Shape, Is.EqualTo(new long[] { 2, 3, 4 }));
        Assert.That(buffer.Count, Is.EqualTo(24));
    }

    [Test]
    public void AShapeWithANegativeDimensionIsRefusedBeforeTheLibrary()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => arena.Context.Allocate<float>(2, -3));
    }

    [Test]
    public void AnEmptyBufferCanBeAllocatedAndRead()
    {
        Assert.That(arena.F32(0).ToArray(), Is.Empty);
    }

    [Test]
    public void CopyToAtAnOffsetReadsThatWindow()
    {
        var buffer = arena.Upload(1f, 2f, 3f, 4f, 5f);
        var window = new float[2];
        buffer.CopyTo(window, offset: 2);
        Assert.That(window, Is.EqualTo(new[] { 3f, 4f }));
    }

    [Test]
    public void CopyFromAtAnOffsetWritesThatWindow()
    {
        var buffer = arena.Upload(1f, 2f, 3f, 4f, 5f);
        buffer.CopyFrom([9f, 8f], offset: 3);
        Assert.That(buffer.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f, 9f, 8f }));
    }

    [Test]
    public void ADeviceToDeviceCopyDuplicatesTheContents()
    {
        var source = arena.Upload(1f, 2f, 3f);
        var target = arena.F32(3);
        target.CopyFrom(source);
        Assert.That(target.ToArray(), Is.EqualTo(new[] { 1f, 2f, 3f }));
    }

    [Test]
    public void AViewSeesItsParentsElements()
    {
        var parent = arena.Upload(0f, 1f, 2f, 3f, 4f, 5f);
        var view = arena.Own(parent.View(2, 3));
        Assert.That(view.ToArray(), Is.EqualTo(new[] { 2f, 3f, 4f }));
        Assert.That(view.Shape, Is.EqualTo(new long[] { 3 }));
    }

    [Test]
    public void ASliceOfAnUntypedBufferKeepsItsElementType()
    {
        var parent = arena.Own(arena.Context.Upload<Half>([(Half)0f, (Half)1f, (Half)2f, (Half)3f]));
        DeviceBuffer untyped = parent;
        var slice = arena.Own(untyped.Slice(1, 2));
        Assert.That(slice.DType, Is.EqualTo(DType.F16));
        Assert.That(((DeviceBuffer<Half>)slice).ToArray(), Is.EqualTo(new[] { (Half)1f, (Half)2f }));
    }

    [Test]
    public void WritesThroughAViewLandInTheParent()
    {
        var parent = arena.F32(6);
        parent.Fill(0);
        var view = arena.Own(parent.View(4, 2));
        view.Fill(7);
        Assert.That(parent.ToArray(), Is.EqualTo(new[] { 0f, 0f, 0f, 0f, 7f, 7f }));
    }

    [Test]
    public void AViewKeepsTheMemoryAliveAfterItsParentIsDisposed()
    {
        var parent = arena.Context.Upload<float>([1f, 2f, 3f]);
        using var view = parent.View(1, 2);
        parent.Dispose();
        Assert.That(view.ToArray(), Is.EqualTo(new[] { 2f, 3f }));
    }

    [Test]
    public void ReshapeGivesTheSameElementsAnotherShape()
    {
        var buffer = arena.Upload(1f, 2f, 3f, 4f, 5f, 6f);
        var matrix = arena.Own(buffer.Reshape(2, 3));
        Assert.That(matrix.Shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(matrix.ToArray(), Is.EqualTo(buffer.ToArray()));
    }

    [Test]
    public void ReshapeToAnotherElementCountIsRefused()
    {
        Assert.Throws<ArgumentException>(() => arena.F32(6).Reshape(4, 2));
    }

    [Test]
    public void FillSetsEveryElementOfAFloatBuffer()
    {
        var buffer = arena.F16(5);
        buffer.Fill(1.5);
        Assert.That(buffer.ToArray(), Is.All.EqualTo((Half)1.5f));
    }

    [Test]
    public void FillSetsEveryElementOfAnIntBuffer()
    {
        var buffer = arena.I32(5);
        buffer.Fill(-42);
        Assert.That(buffer.ToArray(), Is.All.EqualTo(-42));
    }

    [Test]
    public void UniformFillsWithTheSameSeedGiveTheSameBits()
    {
        var (a, b) = (arena.Buffer<BFloat16>(1000), arena.Buffer<BFloat16>(1000));
        a.FillUniform(seed: 7, low: -2, high: 2);
        b.FillUniform(seed: 7, low: -2, high: 2);
        Assert.That(a.ToArray().Select(v => v.Bits), Is.EqualTo(b.ToArray().Select(v => v.Bits)));
    }

    [Test]
    public void UniformFillsWithDifferentSeedsDiffer()
    {
        var (a, b) = (arena.F32(1000), arena.F32(1000));
        a.FillUniform(seed: 7);
        b.FillUniform(seed: 8);
        Assert.That(a.ToArray(), Is.Not.EqualTo(b.ToArray()));
    }

    [Test]
    public void UniformValuesLieInTheRangeAndCoverIt()
    {
        var buffer = arena.F32(10_000);
        buffer.FillUniform(seed: 3, low: -1, high: 3);
        float[] values = buffer.ToArray();
        Assert.That(values, Is.All.InRange(-1f, 3f));
        Assert.That(values.Average(), Is.EqualTo(1.0).Within(0.05));
    }

    [Test]
    public void NormalFillsWithTheSameSeedGiveTheSameBits()
    {
        var (a, b) = (arena.F32(1000), arena.F32(1000));
        a.FillNormal(seed: 11, mean: 1, stddev: 2);
        b.FillNormal(seed: 11, mean: 1, stddev: 2);
        Assert.That(a.ToArray(), Is.EqualTo(b.ToArray()));
    }

    [Test]
    public void NormalValuesHaveTheRequestedMeanAndSpread()
    {
        var buffer = arena.F32(20_000);
        buffer.FillNormal(seed: 5, mean: 1, stddev: 2);
        float[] v = buffer.ToArray();
        double mean = v.Average(), std = Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).Average());
        Assert.That(mean, Is.EqualTo(1.0).Within(0.05));
        Assert.That(std, Is.EqualTo(2.0).Within(0.05));
    }

    [Test]
    public void ADisposedBufferThrowsObjectDisposedExceptionInsteadOfReachingNativeCode()
    {
        var buffer = arena.Context.Allocate<float>(4);
        buffer.Dispose();
        Assert.That(buffer.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => buffer.ToArray());
        Assert.Throws<ObjectDisposedException>(() => buffer.Fill(1));
        Assert.Throws<ObjectDisposedException>(() => buffer.View(0, 1));
    }

    [Test]
    public void ADisposedBufferPassedToAnOpThrowsObjectDisposedException()
    {
        var x = arena.Context.Allocate<float>(4);
        x.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Ops.GeluForward(arena.Context, x, arena.F32(4)));
    }

    [Test]
    public void AFailedLeaseReleasesTheHandlesItAlreadyTook()
    {
        var alive = arena.F32(4);
        var disposed = arena.Context.Allocate<float>(4);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Ops.GeluForward(arena.Context, alive, disposed));
        alive.Dispose();
        Assert.That(alive.IsDisposed, "a leaked reference count would keep the handle open");
    }

    [Test]
    public void ToStringShowsTheDTypeAndShape()
    {
        Assert.That(arena.F32(2, 3).ToString(), Is.EqualTo("DeviceBuffer<F32>[2, 3]"));
    }
}
