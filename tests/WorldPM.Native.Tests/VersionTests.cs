using System.Text.RegularExpressions;
using WorldPM.Native.Interop;
using WorldPM.Native.Tests.Support;

namespace WorldPM.Native.Tests;

/// <summary>The bindings accept a native library of the same ABI major and at least their minor, and name
/// both versions when they refuse one.</summary>
[TestFixture]
public sealed class VersionTests
{
    private static int HeaderDefine(string name) =>
        int.Parse(Regex.Match(File.ReadAllText(RepoPaths.Header), $@"#define {name} (\d+)").Groups[1].Value);

    private static uint Packed(int major, int minor, int patch) => (uint)(major << 16 | minor << 8 | patch);

    [Test]
    public void TheBindingsAreBuiltForTheHeadersMajorAndMinor()
    {
        Assert.That(WorldPMContext.BindingsVersion,
            Is.EqualTo(new Version(HeaderDefine("WPM_VERSION_MAJOR"), HeaderDefine("WPM_VERSION_MINOR"))));
    }

    [Test]
    public void TheLoadedLibraryReportsTheHeadersVersion()
    {
        var header = new Version(HeaderDefine("WPM_VERSION_MAJOR"), HeaderDefine("WPM_VERSION_MINOR"),
            HeaderDefine("WPM_VERSION_PATCH"));
        Assert.That(WorldPMContext.Version, Is.EqualTo(header));
        Assert.That(WorldPMContext.VersionString, Is.EqualTo(header.ToString(3)));
    }

    [Test]
    public void UnpackReadsMajorMinorPatchFromTheirBytes()
    {
        Assert.That(AbiVersion.Unpack(0x010203), Is.EqualTo(new Version(1, 2, 3)));
    }

    [Test]
    public void TheSameVersionIsAccepted()
    {
        Assert.DoesNotThrow(() => AbiVersion.EnsureCompatible(Packed(AbiVersion.Major, AbiVersion.Minor, 0), "lib"));
    }

    [Test]
    public void ANewerPatchIsAccepted()
    {
        Assert.DoesNotThrow(() => AbiVersion.EnsureCompatible(Packed(AbiVersion.Major, AbiVersion.Minor, 7), "lib"));
    }

    [Test]
    public void BeforeOneZeroANewerMinorIsRefusedBecauseItMayChangeSignatures()
    {
        Assume.That(AbiVersion.Major, Is.EqualTo(0), "the pre-1.0 rule");
        var e = Assert.Throws<WorldPMException>(() =>
            AbiVersion.EnsureCompatible(Packed(0, AbiVersion.Minor + 1, 0), "lib"))!;
        Assert.That(e.Message, Does.Contain($"0.{AbiVersion.Minor + 1}.0").And.Contain($"need 0.{AbiVersion.Minor}.x")
            .And.Contain("minor must match"));
    }

    [Test]
    public void AnOlderMinorIsRefusedNamingBothVersions()
    {
        var e = Assert.Throws<WorldPMException>(() =>
            AbiVersion.EnsureCompatible(Packed(AbiVersion.Major, AbiVersion.Minor - 1, 0), "/x/libworldpm.so"))!;
        Assert.That(e.Message, Does.Contain($"{AbiVersion.Major}.{AbiVersion.Minor - 1}.0")
            .And.Contain($"{AbiVersion.Major}.{AbiVersion.Minor}").And.Contain("/x/libworldpm.so").And.Contain("older"));
    }

    [Test]
    public void ADifferentMajorIsRefusedNamingBothVersions()
    {
        var e = Assert.Throws<WorldPMException>(() =>
            AbiVersion.EnsureCompatible(Packed(AbiVersion.Major + 1, AbiVersion.Minor, 0), "lib"))!;
        Assert.That(e.Message, Does.Contain($"{AbiVersion.Major + 1}.{AbiVersion.Minor}.0")
            .And.Contain($"{AbiVersion.Major}.{AbiVersion.Minor}").And.Contain("major"));
    }
}
