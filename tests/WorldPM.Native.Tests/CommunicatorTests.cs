using WorldPM.Native.Tests.Support;
using WorldPM.Testing;

namespace WorldPM.Native.Tests;

/// <summary>
/// The collectives' bindings in a process not started by mpirun: a world of one rank, where every collective is
/// the identity (sum and mean of one rank's values are those values). Two-rank arithmetic is tested natively under
/// mpirun (tests/native/comm) and end to end by the CLI's data-parallel tests.
/// </summary>
[TestFixture]
public sealed class CommunicatorTests
{
    [Test]
    public void QueryWithoutALauncherIsAWorldOfOne()
    {
        CommInfo info = Communicator.Query();
        Assert.That(info.MpiBuilt, Is.True, info.Mpi);
        Assert.That((info.Launched, info.WorldSize, info.Rank, info.LocalRank, info.LocalSize), Is.EqualTo((false, 1, 0, 0, 1)));
        if (!info.NcclAvailable) Assert.That(info.Nccl, Does.Contain("libnccl.so.2"), "says which library it looked for");
    }

    [Test]
    public void ASingleRankReducesToItsOwnValues()
    {
        using var context = WorldPMContext.Create(TestBackend.Kind);
        using var comm = Communicator.Create(context);
        Assert.That((comm.Rank, comm.Size), Is.EqualTo((0, 1)));
        float[] values = [1.5f, -2.25f, 3e-8f, 1e30f];
        using DeviceBuffer<float> buffer = context.Allocate<float>(values.Length);
        foreach (ReduceOp op in new[] { ReduceOp.Sum, ReduceOp.Mean })
        {
            buffer.CopyFrom(values);
            comm.AllReduce(buffer, op);
            Assert.That(buffer.ToArray(), Is.EqualTo(values), op.ToString());
        }
        buffer.CopyFrom(values);
        comm.StartAllReduce(buffer, ReduceOp.Mean);
        comm.Wait();
        Assert.That(buffer.ToArray(), Is.EqualTo(values));
        using DeviceBuffer<float> gathered = context.Allocate<float>(values.Length);
        comm.AllGather(buffer, gathered);
        Assert.That(gathered.ToArray(), Is.EqualTo(values));
        comm.Barrier();
    }

    [Test]
    public void AStartedAllReduceLeavesItsResultInTheHostCopyAtTheWait()
    {
        using var context = WorldPMContext.Create(TestBackend.Kind);
        using var comm = Communicator.Create(context);
        float[] values = [1.5f, -2.25f, 3e-8f, 1e30f, 7f];
        using DeviceBuffer<float> first = context.Allocate<float>(3), second = context.Allocate<float>(2);
        first.CopyFrom(values.AsSpan(0, 3));
        second.CopyFrom(values.AsSpan(3));
        float[] copy = [.. Enumerable.Repeat(float.NaN, values.Length)];
        comm.StartAllReduce(first, ReduceOp.Mean, copy.AsMemory(0, 3));
        comm.StartAllReduce(second, ReduceOp.Sum, copy.AsMemory(3));
        comm.Wait();
        Assert.That(copy, Is.EqualTo(values), "a world of one: the result is each rank's own values");
        Assert.That(first.ToArray().Concat(second.ToArray()), Is.EqualTo(values));
        Assert.That(() => comm.StartAllReduce(first, ReduceOp.Sum, new float[2]),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("hostCopy"));
    }

    [Test]
    public void BadCallsBecomeTypedExceptionsNamingTheArgument()
    {
        using var context = WorldPMContext.Create(TestBackend.Kind);
        using var other = WorldPMContext.Create(TestBackend.Kind);
        using var comm = Communicator.Create(context);
        using DeviceBuffer<float> foreign = other.Allocate<float>(4), mine = context.Allocate<float>(4);
        using DeviceBuffer<int> ids = context.Allocate<int>(4);
        Assert.That(() => comm.AllReduce(foreign), Throws.TypeOf<WorldPMWrongContextException>().With.Message.Contains("'buffer'"));
        Assert.That(() => comm.AllReduce(ids), Throws.TypeOf<WorldPMDTypeException>().With.Message.Contains("i32"));
        Assert.That(() => comm.Broadcast(mine, root: 1), Throws.InstanceOf<WorldPMArgumentException>().With.Message.Contains("'root'"));
        Assert.That(() => Communicator.Create(context, TimeSpan.Zero), Throws.TypeOf<ArgumentOutOfRangeException>());
        comm.Dispose();
        Assert.That(() => comm.Barrier(), Throws.TypeOf<ObjectDisposedException>());
    }
}
