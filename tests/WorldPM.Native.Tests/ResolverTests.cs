using System.Runtime.InteropServices;
using WorldPM.Native.Interop;

namespace WorldPM.Native.Tests;

/// <summary>How the bindings find libworldpm: the probing order, and an error that lists what was tried.
/// The probing function is tested in isolation (a process loads the library only once).</summary>
[TestFixture]
public sealed class ResolverTests
{
    private string directory = "";

    [SetUp]
    public void CreateEmptyDirectory() => directory = Directory.CreateTempSubdirectory("worldpm-resolver-").FullName;

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(directory, recursive: true);

    private static nint NeverLoads(string path) => throw new DllNotFoundException($"fake loader refused {path}");

    [Test]
    public void WithoutTheVariableItLooksNextToTheAssemblyThenInRuntimesThenByName()
    {
        var paths = NativeLibraryResolver.Candidates(null, "/app").Select(c => c.Path);
        Assert.That(paths, Is.EqualTo(new[]
        {
            "/app/libworldpm.so", "/app/runtimes/linux-x64/native/libworldpm.so", "libworldpm.so",
        }));
    }

    [Test]
    public void TheVariableNamingAFileIsTriedFirst()
    {
        var first = NativeLibraryResolver.Candidates("/opt/wpm/libworldpm-cuda.so", "/app")[0];
        Assert.That(first.Path, Is.EqualTo("/opt/wpm/libworldpm-cuda.so"));
        Assert.That(first.Source, Does.Contain("WORLDPM_NATIVE_PATH"));
    }

    [Test]
    public void TheVariableNamingAFolderMeansTheLibraryInThatFolder()
    {
        var first = NativeLibraryResolver.Candidates(directory, "/app")[0];
        Assert.That(first.Path, Is.EqualTo(Path.Combine(directory, "libworldpm.so")));
    }

    [Test]
    public void AVariablePointingAtAMissingFileGivesAnErrorListingEveryPathTriedAndWhy()
    {
        string missing = Path.Combine(directory, "gone", "libworldpm.so");
        var candidates = NativeLibraryResolver.Candidates(missing, directory);

        var e = Assert.Throws<DllNotFoundException>(() => NativeLibraryResolver.Probe(candidates, NeverLoads))!;

        Assert.That(e.Message, Does.Contain($"1. {missing} (WORLDPM_NATIVE_PATH={missing}): no such file"));
        Assert.That(e.Message, Does.Contain($"2. {Path.Combine(directory, "libworldpm.so")} (next to the assembly): no such file"));
        Assert.That(e.Message, Does.Contain("3. ").And.Contain("runtimes/linux-x64/native/libworldpm.so"));
        Assert.That(e.Message, Does.Contain("4. libworldpm.so").And.Contain("fake loader refused libworldpm.so"));
        Assert.That(e.Message, Does.Contain("Set WORLDPM_NATIVE_PATH"));
    }

    [Test]
    public void TheFirstCandidateThatLoadsWins()
    {
        string present = Path.Combine(directory, "libworldpm.so");
        File.WriteAllText(present, "");
        var candidates = NativeLibraryResolver.Candidates(Path.Combine(directory, "missing.so"), directory);

        var (handle, path) = NativeLibraryResolver.Probe(candidates, p => p == present ? 42 : NeverLoads(p));

        Assert.That((handle, path), Is.EqualTo(((nint)42, present)));
    }

    [Test]
    public void AFileThatIsNotALibraryIsReportedWithTheLoadersReason()
    {
        string broken = Path.Combine(directory, "libworldpm.so");
        File.WriteAllText(broken, "not an ELF file");
        var candidates = NativeLibraryResolver.Candidates(broken, Path.Combine(directory, "app"))
            .Where(c => Path.IsPathRooted(c.Path)).ToList();

        var e = Assert.Throws<DllNotFoundException>(() => NativeLibraryResolver.Probe(candidates, NativeLibrary.Load))!;

        Assert.That(e.Message, Does.Contain($"1. {broken}"));
        Assert.That(e.Message, Does.Contain("too short").Or.Contain("invalid ELF header"));
    }

    [Test]
    public void TheLibraryThisProcessUsesWasFoundByTheResolver()
    {
        Assert.That(File.Exists(WorldPMContext.NativeLibraryPath), WorldPMContext.NativeLibraryPath);
    }
}
