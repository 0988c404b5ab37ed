namespace WorldPM.Native.Tests;

/// <summary>Creating contexts, what they report, and what the library says about its backends.</summary>
[TestFixture]
public sealed class ContextTests
{
    [Test]
    public void ACpuContextRunsOnTheCpuBackend()
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        Assert.That(context.Backend, Is.EqualTo(Backend.Cpu));
    }

    [Test]
    public void AnAutoContextResolvesToAConcreteBackend()
    {
        using var context = WorldPMContext.Create(Backend.Auto);
        Assert.That(context.Backend, Is.AnyOf(Backend.Cpu, Backend.Cuda));
    }

    [Test]
    public void TheRequestedThreadCountIsUsed()
    {
        using var context = WorldPMContext.Create(Backend.Cpu, threads: 3);
        Assert.That(context.NumThreads, Is.EqualTo(3));
    }

    [Test]
    public void ZeroThreadsMeansAtLeastOne()
    {
        using var context = WorldPMContext.Create(Backend.Cpu, threads: 0);
        Assert.That(context.NumThreads, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public void SynchronizeReturnsOnAnIdleContext()
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        Assert.DoesNotThrow(context.Synchronize);
    }

    [Test]
    public void TheCpuBackendIsBuiltAndAvailable()
    {
        BackendInfo cpu = WorldPMContext.QueryBackend(Backend.Cpu);
        Assert.That((cpu.Built, cpu.Available), Is.EqualTo((true, true)));
        Assert.That(cpu.Reason, Is.Not.Empty);
    }

    [TestCase(Backend.Cuda)]
    [TestCase(Backend.Emu)]
    public void ABackendTheLibraryReportsUnavailableCannotBeCreatedAndTheErrorNamesIt(Backend backend)
    {
        BackendInfo info = WorldPMContext.QueryBackend(backend);
        if (info.Available)
        {
            using var context = WorldPMContext.Create(backend);
            Assert.That(context.Backend, Is.EqualTo(backend));
            return;
        }
        var e = Assert.Throws<BackendUnavailableException>(() => WorldPMContext.Create(backend))!;
        Assert.That(e.Message, Does.Contain($"'{backend.ToString().ToLowerInvariant()}'").And.Contain(info.Reason));
    }

    [Test]
    public void ACpuContextHasNoDeviceCounters()
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        Assert.That(context.DeviceCounters, Is.Null);
    }

    // One upload, one elementwise kernel, one read-back: each moves its own counter by one; only the read-back
    // waits for the stream (a small upload is staged and queued).
    [Test]
    public void AnEmuContextCountsItsCopiesWaitsAndLaunches()
    {
        using var context = WorldPMContext.Create(Backend.Emu, threads: 1);
        using DeviceBuffer<float> x = context.Allocate<float>(32), y = context.Allocate<float>(32);
        DeviceCounters start = context.DeviceCounters!;
        x.CopyFrom(new float[32]);
        Ops.GeluForward(context, x, y);
        var back = new float[32];
        y.CopyTo(back);
        Assert.That(context.DeviceCounters!.Since(start), Is.EqualTo(new DeviceCounters(HostWaits: 1, DeviceToHostCopies: 1,
            HostToDeviceCopies: 1, Launches: 1, Gemms: 0)));
    }

    // GELU over n floats reads x and writes y once: 4 n bytes each way, 8 n the least it can move.
    [Test]
    public void AnEmuContextCountsTheWorkOfEachKernel()
    {
        const int n = 4096;
        using var context = WorldPMContext.Create(Backend.Emu, threads: 1);
        using DeviceBuffer<float> x = context.Allocate<float>(n), y = context.Allocate<float>(n);
        x.CopyFrom(new float[n]);
        context.StartProfile();
        Ops.GeluForward(context, x, y);
        Ops.GeluForward(context, x, y);
        context.StopProfile();
        Ops.GeluForward(context, x, y);  // not counted
        KernelProfile gelu = context.KernelProfiles().Single();
        Assert.That(gelu.Kernel, Does.StartWith("gelu_fwd_kernel"));
        Assert.That(gelu.Launches, Is.EqualTo(2));
        Assert.That(gelu.MinBytes, Is.EqualTo(2 * 8 * n));
        if (!gelu.BytesCounted) return;  // a sanitizer build: plain loads and stores are not reported
        Assert.That(gelu.BytesRead, Is.InRange(2 * 4 * n, 2 * 4 * n * 1.1));
        Assert.That(gelu.BytesWritten, Is.InRange(2 * 4 * n, 2 * 4 * n * 1.1));
        Assert.That(gelu.OtherFlops, Is.GreaterThan(0));
    }

    [Test]
    public void ACpuContextRefusesToCountKernelsNamingTheContext()
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        var e = Assert.Throws<WorldPMUnsupportedException>(context.StartProfile)!;
        Assert.That(e.Message, Does.Contain("context"));
    }

    [Test]
    public void CpuFeaturesAreSpaceSeparatedNames()
    {
        Assert.That(WorldPMContext.CpuFeatures, Does.Match(@"^([a-z0-9_]+( [a-z0-9_]+)*)?$"));
    }

    [Test]
    public void ADisposedContextThrowsObjectDisposedExceptionInsteadOfReachingNativeCode()
    {
        var context = WorldPMContext.Create(Backend.Cpu);
        context.Dispose();
        Assert.That(context.IsDisposed);
        Assert.Throws<ObjectDisposedException>(context.Synchronize);
    }

    [Test]
    public void DisposingTwiceIsHarmless()
    {
        var context = WorldPMContext.Create(Backend.Cpu);
        context.Dispose();
        Assert.DoesNotThrow(context.Dispose);
    }

    [Test]
    public void ABufferOutlivingItsContextCanStillBeDisposed()
    {
        var context = WorldPMContext.Create(Backend.Cpu);
        var buffer = context.Allocate<float>(4);
        context.Dispose();
        Assert.DoesNotThrow(buffer.Dispose);
    }

    [Test]
    public void AnOpOnADisposedContextThrowsObjectDisposedException()
    {
        var context = WorldPMContext.Create(Backend.Cpu);
        using var x = context.Allocate<float>(4);
        context.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Ops.GeluForward(context, x, x));
    }
}
