namespace WorldPM.Native.Tests;

/// <summary>
/// <see cref="DeviceGraph"/> on the emu backend (whatever backend the suite runs on: graphs exist on the device
/// backends only), and its refusal on cpu.
/// </summary>
[TestFixture]
public sealed class DeviceGraphTests
{
    private static float[] Values(int seed, int n) => Enumerable.Range(0, n).Select(i => (i * 7 + seed * 5) % 13 / 4f - 1.5f).ToArray();

    // x -> GELU -> ReLU: two kernels over fixed buffers.
    private static void Chain(WorldPMContext context, DeviceBuffer<float> x, DeviceBuffer<float> mid, DeviceBuffer<float> y)
    {
        Ops.GeluForward(context, x, mid);
        Ops.ReluForward(context, mid, y);
    }

    /// <summary>An emu context with the chain's buffers: x holds <c>Values(1, n)</c>.</summary>
    private sealed class ChainOnEmu : IDisposable
    {
        public ChainOnEmu(int n)
        {
            Context = WorldPMContext.Create(Backend.Emu, threads: 1);
            X = Context.Upload<float>(Values(1, n));
            Mid = Context.Allocate<float>(n);
            Y = Context.Allocate<float>(n);
        }

        public WorldPMContext Context { get; }
        public DeviceBuffer<float> X { get; }
        public DeviceBuffer<float> Mid { get; }
        public DeviceBuffer<float> Y { get; }

        public void Run() => Chain(Context, X, Mid, Y);

        public void Dispose()
        {
            foreach (DeviceBuffer buffer in new DeviceBuffer[] { X, Mid, Y }) buffer.Dispose();
            Context.Dispose();
        }
    }

    private static float[] Eager(float[] input)
    {
        using var chain = new ChainOnEmu(input.Length);
        chain.X.CopyFrom(input);
        chain.Run();
        return chain.Y.ToArray();
    }

    [Test]
    public void AReplayOverNewInputsEqualsAnEagerRunBitForBit()
    {
        using var chain = new ChainOnEmu(64);
        chain.Y.Fill(9);
        using DeviceGraph graph = DeviceGraph.Capture(chain.Context, chain.Run);
        Assert.That(chain.Y.ToArray(), Is.All.EqualTo(9f), "a capture runs nothing");
        foreach (int seed in new[] { 2, 3 })
        {
            chain.X.CopyFrom(Values(seed, 64));
            graph.Launch();
            float[] replayed = chain.Y.ToArray(), expected = Eager(Values(seed, 64));
            Assert.That(replayed.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
        }
        Assert.That(Eager(Values(2, 64)), Is.Not.EqualTo(Eager(Values(3, 64))), "the inputs change the result");
    }

    [Test]
    public void AReadBackDuringCaptureThrowsNamingTheCallAndTheContextStaysUsable()
    {
        using var chain = new ChainOnEmu(16);
        var e = Assert.Throws<WorldPMArgumentException>(() => DeviceGraph.Capture(chain.Context, () =>
        {
            chain.Run();
            chain.Y.ToArray();
        }))!;
        Assert.That(e.Message, Does.Contain("wpm_buffer_read").And.Contain("during graph capture"));
        chain.Run();
        Assert.That(chain.Y.ToArray(), Is.EqualTo(Eager(Values(1, 16))));
    }

    [Test]
    public void AGraphOverAFreedBufferIsRefusedNamingTheGraph()
    {
        using var chain = new ChainOnEmu(16);
        using DeviceGraph graph = DeviceGraph.Capture(chain.Context, chain.Run);
        chain.Y.Dispose();
        var e = Assert.Throws<WorldPMArgumentException>(graph.Launch)!;
        Assert.That(e.ArgumentName, Is.EqualTo("graph"));
    }

    [Test]
    public void ADisposedGraphCannotBeLaunched()
    {
        using var context = WorldPMContext.Create(Backend.Emu, threads: 1);
        DeviceGraph graph = DeviceGraph.Capture(context, () => { });
        graph.Launch();
        graph.Dispose();
        Assert.Throws<ObjectDisposedException>(graph.Launch);
    }

    [Test]
    public void TheCpuBackendHasNoGraphs()
    {
        using var context = WorldPMContext.Create(Backend.Cpu, threads: 1);
        var e = Assert.Throws<WorldPMUnsupportedException>(() => DeviceGraph.Capture(context, () => { }))!;
        Assert.That(e.ArgumentName, Is.EqualTo("context"));
    }
}
