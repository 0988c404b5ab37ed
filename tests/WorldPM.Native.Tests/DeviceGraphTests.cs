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

    private static float[] Eager(float[] input)
    {
        using var context = WorldPMContext.Create(Backend.Emu, threads: 1);
        using var x = context.Upload<float>(input);
        using var mid = context.Allocate<float>(input.Length);
        using var y = context.Allocate<float>(input.Length);
        Chain(context, x, mid, y);
        return y.ToArray();
    }

    [Test]
    public void AReplayOverNewInputsEqualsAnEagerRunBitForBit()
    {
        using var context = WorldPMContext.Create(Backend.Emu, threads: 1);
        using var x = context.Upload<float>(Values(1, 64));
        using var mid = context.Allocate<float>(64);
        using var y = context.Allocate<float>(64);
        y.Fill(9);
        using DeviceGraph graph = DeviceGraph.Capture(context, () => Chain(context, x, mid, y));
        Assert.That(y.ToArray(), Is.All.EqualTo(9f), "a capture runs nothing");
        foreach (int seed in new[] { 2, 3 })
        {
            x.CopyFrom(Values(seed, 64));
            graph.Launch();
            float[] replayed = y.ToArray(), expected = Eager(Values(seed, 64));
            Assert.That(replayed.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
        }
        Assert.That(Eager(Values(2, 64)), Is.Not.EqualTo(Eager(Values(3, 64))), "the inputs change the result");
    }

    [Test]
    public void AReadBackDuringCaptureThrowsNamingTheCallAndTheContextStaysUsable()
    {
        using var context = WorldPMContext.Create(Backend.Emu, threads: 1);
        using var x = context.Upload<float>(Values(1, 16));
        using var mid = context.Allocate<float>(16);
        using var y = context.Allocate<float>(16);
        var e = Assert.Throws<WorldPMArgumentException>(() => DeviceGraph.Capture(context, () =>
        {
            Chain(context, x, mid, y);
            y.ToArray();
        }))!;
        Assert.That(e.Message, Does.Contain("wpm_buffer_read").And.Contain("during graph capture"));
        Chain(context, x, mid, y);
        Assert.That(y.ToArray(), Is.EqualTo(Eager(Values(1, 16))));
    }

    [Test]
    public void AGraphOverAFreedBufferIsRefusedNamingTheGraph()
    {
        using var context = WorldPMContext.Create(Backend.Emu, threads: 1);
        using var x = context.Upload<float>(Values(1, 16));
        using var mid = context.Allocate<float>(16);
        var y = context.Allocate<float>(16);
        using DeviceGraph graph = DeviceGraph.Capture(context, () => Chain(context, x, mid, y));
        y.Dispose();
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
