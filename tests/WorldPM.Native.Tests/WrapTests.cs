using System.Buffers;
using System.Runtime.InteropServices;
using WorldPM.Native.Tests.Support;

namespace WorldPM.Native.Tests;

/// <summary>
/// Caller-owned memory (<see cref="WorldPMContext.Wrap{T}(Memory{T})"/> and its overloads, the scoped span form,
/// <see cref="DeviceBuffer.DevicePointer"/>): ops write straight into the caller's memory (no copy), the pin of a
/// <see cref="Memory{T}"/> lasts exactly as long as a buffer over it, disposing never touches the memory, and
/// misuse raises the typed exception naming the argument. Host memory is the CPU backend's; on emu it must be
/// refused, and a device pointer from another buffer is what gets wrapped on every backend.
/// </summary>
[TestFixture]
public sealed unsafe class WrapTests
{
    private Arena arena = null!;

    [SetUp]
    public void CreateArena() => arena = new Arena();

    private readonly List<nint> nativeBlocks = [];

    [TearDown]
    public void DisposeArena()
    {
        arena.Dispose();
        foreach (nint block in nativeBlocks) NativeMemory.AlignedFree((void*)block);
        nativeBlocks.Clear();
    }

    private WorldPMContext Context => arena.Context;

    private static void HostMemoryOnly() =>
        Assume.That(TestBackend.Kind, Is.EqualTo(Backend.Cpu), "host memory is wrapped on the CPU backend only");

    /// <summary>
    /// Memory a caller could wrap on this backend, for the tests of pins and scopes: native host memory on the CPU;
    /// on emu, emulated device memory (another buffer's <see cref="DeviceBuffer.DevicePointer"/>), which the emulator
    /// keeps host-addressable, so a <see cref="Memory{T}"/> or span can stand over it as over a framework's tensor.
    /// </summary>
    private float* CallerRegion(int length)
    {
        if (TestBackend.Kind == Backend.Emu) return (float*)arena.F32(length).DevicePointer;
        HostMemoryOnly();
        var block = (float*)NativeMemory.AlignedAlloc((nuint)(length * sizeof(float)), 64);
        nativeBlocks.Add((nint)block);
        return block;
    }

    private static double[] GeluReference(float[] x) => x.Select(v => Reference.GeluTanh(v)).ToArray();

    // ------------------------------------------------------------------ host memory (cpu)

    [Test]
    public void AWrappedArrayReceivesTheOpsResultDirectly()
    {
        HostMemoryOnly();
        float[] x = Reference.Random(1, 301);
        float[] output = Enumerable.Repeat(float.NaN, 301).ToArray();
        using (DeviceBuffer<float> wx = Context.Wrap(x))
        using (DeviceBuffer<float> wout = Context.Wrap(output))
        {
            fixed (float* p = output)
                Assert.That(wout.DevicePointer, Is.EqualTo((nint)p), "the buffer is the array, not a copy of it");
            Ops.GeluForward(Context, wx, wout);
            Context.Synchronize();
        }
        Assert.That(Reference.RelativeError(output, GeluReference(x)), Is.LessThan(1e-5));
    }

    [Test]
    public void AMemorySliceIsWrappedInPlaceAndDisposingLeavesItAlone()
    {
        HostMemoryOnly();
        float[] array = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        DeviceBuffer<float> wrapped = Context.Wrap(array.AsMemory(3, 5));
        Assert.That(wrapped.Shape, Is.EqualTo(new long[] { 5 }));
        fixed (float* p = array)
            Assert.That(wrapped.DevicePointer, Is.EqualTo((nint)(p + 3)));
        wrapped.Fill(-1);
        wrapped.Dispose();
        Assert.That(array, Is.EqualTo(new float[] { 0, 1, 2, -1, -1, -1, -1, -1, 8, 9, 10, 11 }));
    }

    [Test]
    public void MemoryStaysPinnedUntilTheLastWrapperOrViewIsDisposed()
    {
        using var manager = new CountingMemoryManager(CallerRegion(16), 16);
        DeviceBuffer<float> wrapped = Context.Wrap(manager.Memory);
        Assert.That((manager.Pins, manager.Unpins), Is.EqualTo((1, 0)));
        DeviceBuffer<float> view = wrapped.View(4, 8);
        wrapped.Dispose();
        Assert.That(manager.Unpins, Is.EqualTo(0), "the view still reaches the memory");
        view.Fill(3);
        Context.Synchronize(); // the fill may still be queued (a GPU stream, or emu's WORLDPM_EMU_QUEUE=deferred)
        Assert.That(manager.Values[4..12].ToArray(), Is.All.EqualTo(3f));
        view.Dispose();
        Assert.That((manager.Pins, manager.Unpins), Is.EqualTo((1, 1)));
    }

    [Test]
    public void AWrappedArrayDoesNotMoveUnderACompactingCollection()
    {
        HostMemoryOnly();
        var garbage = new List<byte[]>();
        for (int i = 0; i < 64; i++) garbage.Add(new byte[1024]); // something before the array to compact away
        float[] x = Reference.Random(2, 64);
        float[] output = new float[64];
        using DeviceBuffer<float> wx = Context.Wrap(x.AsMemory());
        using DeviceBuffer<float> wout = Context.Wrap(output.AsMemory());
        nint before = wout.DevicePointer;
        garbage.Clear();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        fixed (float* p = output)
            Assert.That((nint)p, Is.EqualTo(before), "the pinned array stayed where the library saw it");
        Ops.GeluForward(Context, wx, wout);
        Context.Synchronize();
        Assert.That(Reference.RelativeError(output, GeluReference(x)), Is.LessThan(1e-5));
    }

    [Test]
    public void RawPointersAreWrappedAndTheMemoryOutlivesTheBuffer()
    {
        HostMemoryOnly();
        const int n = 40;
        float* x = (float*)NativeMemory.AlignedAlloc(n * sizeof(float), 64);
        float* output = (float*)NativeMemory.AlignedAlloc(n * sizeof(float), 64);
        try
        {
            float[] values = Reference.Random(3, n);
            values.CopyTo(new Span<float>(x, n));
            using (DeviceBuffer<float> wx = Context.Wrap(x, n))
            using (DeviceBuffer<float> wout = Context.Wrap<float>((nint)output, n))
            {
                Assert.That(wx.DevicePointer, Is.EqualTo((nint)x));
                Ops.GeluForward(Context, wx, wout);
                Context.Synchronize();
            }
            // Disposed: nothing freed (AlignedFree below would crash on a double free), nothing changed.
            Assert.That(new Span<float>(x, n).ToArray(), Is.EqualTo(values));
            Assert.That(Reference.RelativeError(new Span<float>(output, n).ToArray(), GeluReference(values)), Is.LessThan(1e-5));
        }
        finally
        {
            NativeMemory.AlignedFree(x);
            NativeMemory.AlignedFree(output);
        }
    }

    [Test]
    public void ASpanIsWrappedOnlyForTheCallback()
    {
        var x = new Span<float>(CallerRegion(24), 24);
        Reference.Random(4, 24).CopyTo(x);
        float[] expected = x.ToArray();
        DeviceBuffer<float> output = arena.F32(24);
        DeviceBuffer<float>? leaked = null, leakedView = null;
        Context.WithWrapped(x, buffer =>
        {
            leaked = buffer;
            leakedView = buffer.View(2, 4); // a view kept past the callback must die with it too
            Ops.GeluForward(Context, buffer, output);
            Context.Synchronize();
        });
        Assert.That(Reference.RelativeError(output.ToArray(), GeluReference(expected)), Is.LessThan(1e-5));
        Assert.That(leaked!.IsDisposed && leakedView!.IsDisposed, Is.True);
        Assert.Throws<ObjectDisposedException>(() => leakedView!.Fill(0));

        // The function form returns the callback's result; the callback sees the span's own memory.
        float sum = Context.WithWrapped(x, buffer =>
        {
            buffer.Fill(0.5);
            return buffer.ToArray().Sum();
        });
        Assert.That(sum, Is.EqualTo(12f));
        Assert.That(x.ToArray(), Is.All.EqualTo(0.5f));
    }

    [Test]
    public void AnExceptionInTheCallbackStillEndsTheScope()
    {
        float* region = CallerRegion(3);
        DeviceBuffer<float>? leaked = null;
        Assert.Throws<InvalidOperationException>(() =>
        {
            var values = new Span<float>(region, 3); // made inside: a lambda cannot capture a span
            Context.WithWrapped(values, buffer =>
            {
                leaked = buffer;
                throw new InvalidOperationException("from the callback");
            });
        });
        Assert.That(leaked!.IsDisposed, Is.True);
    }

    // ------------------------------------------------------------------ device pointers (every backend)

    [Test]
    public void ADevicePointerOfAnotherBufferIsWrappedAndWrittenByAnOp()
    {
        float[] x = Reference.Random(5, 50);
        DeviceBuffer<float> input = arena.Upload(x);
        DeviceBuffer<float> framework = arena.F32(60); // another owner's tensor whose address is handed around
        framework.Fill(-7);
        nint address = framework.DevicePointer + 5 * sizeof(float);
        using (DeviceBuffer<float> wrapped = Context.Wrap<float>(address, 50))
        {
            Assert.That(wrapped.DevicePointer, Is.EqualTo(address));
            Ops.GeluForward(Context, input, wrapped);
            Context.Synchronize();
        }
        float[] all = framework.ToArray();
        Assert.That(Reference.RelativeError(all[5..55], GeluReference(x)), Is.LessThan(1e-5));
        Assert.That(all[..5].Concat(all[55..]), Is.All.EqualTo(-7f), "only the wrapped window was written");
    }

    [Test]
    public void DisposingTheContextLeavesWrappedBuffersReadableAndTheMemoryAlone()
    {
        var context = WorldPMContext.Create(TestBackend.Kind, threads: 1);
        float[] values = Reference.Random(6, 16);
        DeviceBuffer<float> owner = context.Upload<float>(values);
        DeviceBuffer<float> wrapped = context.Wrap<float>(owner.DevicePointer, 16);
        context.Dispose();
        Assert.That(wrapped.ToArray(), Is.EqualTo(values), "as for allocated buffers: readable after the context");
        Assert.Throws<WorldPMWrongContextException>(() => Ops.GeluForward(Context, wrapped, arena.F32(16)));
        Assert.Throws<ObjectDisposedException>(() => context.Wrap<float>(owner.DevicePointer, 16));
        wrapped.Dispose();
        Assert.That(owner.ToArray(), Is.EqualTo(values));
        owner.Dispose();
    }

    [Test]
    public void AStackSpanIsWrappedOnTheCpu()
    {
        HostMemoryOnly();
        Span<int> ids = stackalloc int[5];
        int[] seen = Context.WithWrapped(ids, buffer =>
        {
            buffer.Fill(9);
            return buffer.ToArray();
        });
        Assert.That(seen, Is.All.EqualTo(9));
        Assert.That(ids.ToArray(), Is.All.EqualTo(9), "filled in place");
    }

    [Test]
    public void HostMemoryIsRefusedOnTheEmulatorAndItsPinReleased()
    {
        Assume.That(TestBackend.Kind, Is.EqualTo(Backend.Emu));
        var refused = Assert.Throws<WorldPMArgumentException>(() => Context.Wrap(new float[8]))!;
        Assert.That(refused.ArgumentName, Is.EqualTo("pointer"));
        Assert.That(refused.Message, Does.Contain("device memory"));
        float* host = (float*)NativeMemory.AlignedAlloc(8 * sizeof(float), 64);
        nativeBlocks.Add((nint)host);
        using var manager = new CountingMemoryManager(host, 8);
        Assert.Throws<WorldPMArgumentException>(() => Context.Wrap(manager.Memory));
        Assert.That((manager.Pins, manager.Unpins), Is.EqualTo((1, 1)), "a failed wrap does not leave the memory pinned");
        Assert.Throws<WorldPMArgumentException>(() =>
        {
            Span<float> span = stackalloc float[4];
            Context.WithWrapped(span, _ => Assert.Fail("never called"));
        });
        // Too small a region: one element more than the allocation holds.
        DeviceBuffer<float> owner = arena.F32(8);
        var tooLong = Assert.Throws<WorldPMArgumentException>(() => Context.Wrap<float>(owner.DevicePointer, 9))!;
        Assert.That(tooLong.ArgumentName, Is.EqualTo("pointer"));
    }

    [Test]
    public void MisuseRaisesTheTypedExceptionNamingTheArgument()
    {
        DeviceBuffer<float> owner = arena.F32(8);
        Assert.That(Assert.Throws<WorldPMArgumentException>(() => Context.Wrap<float>(0, 4))!.ArgumentName, Is.EqualTo("pointer"));
        Assert.That(Assert.Throws<WorldPMArgumentException>(() => Context.Wrap<float>(owner.DevicePointer + 2, 2))!.ArgumentName,
            Is.EqualTo("pointer"), "misaligned for f32");
        Assert.That(Assert.Throws<WorldPMArgumentException>(() => Context.Wrap<float>(owner.DevicePointer, 1L << 41))!.ArgumentName,
            Is.EqualTo("count"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Context.Wrap<float>(owner.DevicePointer, -1))!.ParamName,
            Is.EqualTo("count"));
        Assert.Throws<NotSupportedException>(() => Context.Wrap(new long[2]));
        Assert.Throws<ArgumentNullException>(() => Context.Wrap((float[])null!));
        var streamed = Assert.Throws<WorldPMUnsupportedException>(() => WorldPMContext.Create(TestBackend.Kind, cudaStream: 0x1000))!;
        Assert.That(streamed.ArgumentName, Is.EqualTo("options.stream"));
        using var empty = Context.Wrap<float>(0, 0);
        Assert.That(empty.Count, Is.EqualTo(0));
    }

    /// <summary>A <see cref="Memory{T}"/> over unmanaged memory (not its own: the test frees it) that counts Pin
    /// and Unpin calls.</summary>
    private sealed class CountingMemoryManager(float* data, int length) : MemoryManager<float>
    {
        public int Pins { get; private set; }

        public int Unpins { get; private set; }

        public Span<float> Values => new(data, length);

        public override Span<float> GetSpan() => Values;

        public override MemoryHandle Pin(int elementIndex = 0)
        {
            Pins++;
            return new MemoryHandle(data + elementIndex, default, this);
        }

        public override void Unpin() => Unpins++;

        protected override void Dispose(bool disposing) { }
    }
}
