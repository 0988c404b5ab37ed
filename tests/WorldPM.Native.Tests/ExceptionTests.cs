using WorldPM.Native.Interop;
using static WorldPM.Native.Interop.Native;

namespace WorldPM.Native.Tests;

/// <summary>Each native status becomes its own exception type, carrying the status, the native message and the
/// name of the argument the library recorded.</summary>
[TestFixture]
public sealed unsafe class ExceptionTests
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
        WorldPMException e = WorldPMException.FromStatus(status, "wpm_x: argument 'y' is NULL", "y");
        Assert.That(e, Is.TypeOf(expected));
        Assert.That(e.Status, Is.EqualTo(status));
        Assert.That(e.ArgumentName, Is.EqualTo("y"));
    }

    [Test]
    public void AWrongContextIsAlsoAnArgumentError()
    {
        Assert.That(WorldPMException.FromStatus(WorldPMStatus.WrongContext, "", null), Is.InstanceOf<WorldPMArgumentException>());
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

    [Test]
    public void TheArgumentNameComesFromTheLibraryNotFromTheMessageText()
    {
        Assert.That(WorldPMException.FromStatus(WorldPMStatus.InvalidArgument, "wpm_x: argument 'y' is NULL", "z").ArgumentName,
            Is.EqualTo("z"));
        Assert.That(WorldPMException.FromStatus(WorldPMStatus.InvalidArgument, "wpm_x: argument 'y' is NULL", "").ArgumentName,
            Is.Null, "an empty name means the error is about no single argument");
        Assert.That(WorldPMException.FromStatus(WorldPMStatus.Internal, "wpm_x: failed", null).ArgumentName, Is.Null);
    }

    [Test]
    public void AFailedCallCarriesTheArgumentTheLibraryRecorded()
    {
        using var context = WorldPMContext.Create(Backend.Cpu);
        using var x = context.Allocate<float>(8);
        using var weight = context.Allocate<float>(4);
        using var rstd = context.Allocate<float>(2);

        var e = Assert.Throws<WorldPMArgumentException>(() => Ops.RmsNormForward(context, x, weight, x, rstd, 2, 4, eps: -1))!;

        Assert.That(e.ArgumentName, Is.EqualTo("eps"));
        Assert.That(Utf8(NativeMethods.wpm_last_error_argument()), Is.EqualTo("eps"),
            "the same name the library holds for this thread");
    }
}
