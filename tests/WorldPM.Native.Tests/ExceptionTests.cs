namespace WorldPM.Native.Tests;

/// <summary>Each native status becomes its own exception type, carrying the status and the native message.</summary>
[TestFixture]
public sealed class ExceptionTests
{
    [TestCase(WorldPMStatus.InvalidArgument, typeof(WorldPMArgumentException))]
    [TestCase(WorldPMStatus.WrongContext, typeof(WorldPMWrongContextException))]
    [TestCase(WorldPMStatus.DType, typeof(WorldPMDTypeException))]
    [TestCase(WorldPMStatus.OutOfMemory, typeof(WorldPMOutOfMemoryException))]
    [TestCase(WorldPMStatus.BackendUnavailable, typeof(BackendUnavailableException))]
    [TestCase(WorldPMStatus.Unsupported, typeof(WorldPMUnsupportedException))]
    [TestCase(WorldPMStatus.Internal, typeof(WorldPMException))]
    public void AStatusMapsToItsExceptionType(WorldPMStatus status, Type expected)
    {
        WorldPMException e = WorldPMException.FromStatus(status, "wpm_x: argument 'y' is NULL");
        Assert.That(e, Is.TypeOf(expected));
        Assert.That(e.Status, Is.EqualTo(status));
    }

    [Test]
    public void AWrongContextIsAlsoAnArgumentError()
    {
        Assert.That(WorldPMException.FromStatus(WorldPMStatus.WrongContext, ""), Is.InstanceOf<WorldPMArgumentException>());
    }

    [Test]
    public void TheMessageIsTheNativeMessageAndNamesTheArgument()
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        using var x = context.Allocate<float>(4);
        using var output = context.Allocate<float>(3);

        var e = Assert.Throws<WorldPMArgumentException>(() => Ops.GeluForward(context, x, output))!;

        Assert.That(e.Message, Does.StartWith("wpm_gelu_fwd: argument 'out'"));
        Assert.That(e.ArgumentName, Is.EqualTo("out"));
        Assert.That(e.Status, Is.EqualTo(WorldPMStatus.InvalidArgument));
    }
}
