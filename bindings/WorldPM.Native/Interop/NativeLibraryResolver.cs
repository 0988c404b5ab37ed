using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace WorldPM.Native.Interop;

/// <summary>
/// Finds libworldpm for every <see cref="NativeMethods"/> declaration, checks its ABI version once, and
/// when it cannot, says everything it tried. Probing order:
/// <list type="number">
/// <item>WORLDPM_NATIVE_PATH: the library file itself, or a folder that holds it;</item>
/// <item>next to WorldPM.Native.dll (where the build copies it);</item>
/// <item>runtimes//// <item>runtimes/&lt;rid&gt;/native under that folder (the NuGet layout, as in a self-contained publish);</item>lt;rid/// <item>runtimes/&lt;rid&gt;/native under that folder (the NuGet layout, as in a self-contained publish);</item>gt;/native under that folder (where a RID-less build of an app that references the package keeps it);</item>
/// <item>the runtime's own search by name (deps.json of an app that references the package, LD_LIBRARY_PATH).</item>
/// </list>
/// </summary>
internal static class NativeLibraryResolver
{
    internal const string EnvironmentVariable = "WORLDPM_NATIVE_PATH";

    private static readonly Lock Gate = new();
    private static nint loaded;

    /// <summary>The file the library was loaded from (a bare name when the runtime's search found it), or null before the first call.</summary>
    internal static string? LoadedPath { get; private set; }

    /// <summary>The file name of the library on this OS.</summary>
    internal static string FileName =>
        OperatingSystem.IsWindows() ? "worldpm.dll" : OperatingSystem.IsMacOS() ? "libworldpm.dylib" : "libworldpm.so";

    /// <summary>The NuGet runtime identifier folder of this process, e.g. linux-x64.</summary>
    internal static string RuntimeIdentifier
    {
        get
        {
            string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            return $"{os}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        }
    }

    // A library must install its resolver before its first P/Invoke, and only a module initializer runs early
    // enough without every entry point calling an "ensure" method. It only affects this assembly's imports.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "Installs this assembly's own DllImport resolver, which must precede any P/Invoke.")]
    internal static void Install() => NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != NativeMethods.Library) return 0;
        // The runtime asks once per imported function; load and check once.
        lock (Gate)
        {
            if (loaded != 0) return loaded;
            string assemblyDirectory = Path.GetDirectoryName(assembly.Location) ?? AppContext.BaseDirectory;
            var candidates = Candidates(Environment.GetEnvironmentVariable(EnvironmentVariable), assemblyDirectory);
            (nint handle, string path) = Probe(candidates, path => LoadOrDefault(path, assembly, searchPath));
            CheckVersion(handle, path);
            loaded = handle;
            LoadedPath = path;
            return loaded;
        }
    }

    /// <summary>One place the resolver looks: a path (or a bare name for the runtime's search) and why it looks there.</summary>
    internal sealed record Candidate(string Path, string Source);

    /// <summary>Where to look, in order, given the value of WORLDPM_NATIVE_PATH (or null) and the assembly's folder.</summary>
    internal static IReadOnlyList<Candidate> Candidates(string? nativePath, string assemblyDirectory)
    {
        var list = new List<Candidate>();
        if (!string.IsNullOrWhiteSpace(nativePath))
        {
            string path = Directory.Exists(nativePath) ? Path.Combine(nativePath, FileName) : nativePath;
            list.Add(new Candidate(path, $"{EnvironmentVariable}={nativePath}"));
        }
        list.Add(new Candidate(Path.Combine(assemblyDirectory, FileName), "next to the assembly"));
        list.Add(new Candidate(Path.Combine(assemblyDirectory, "runtimes", RuntimeIdentifier, "native", FileName),
            "NuGet runtimes folder"));
        list.Add(new Candidate(FileName, "the runtime's search by name (deps.json, LD_LIBRARY_PATH)"));
        return list;
    }

    /// <summary>
    /// Tries each candidate with <paramref name="load"/> (which throws with the reason on failure) and returns
    /// the first that loads. A rooted path that does not exist is reported as such without calling load.
    /// Throws a <see cref="DllNotFoundException"/> that lists every candidate and why it failed.
    /// </summary>
    internal static (nint Handle, string Path) Probe(IReadOnlyList<Candidate> candidates, Func<string, nint> load)
    {
        var report = new StringBuilder();
        report.Append(
            $"Could not load the WorldPM native library '{FileName}'. Tried, in order:");
        for (int i = 0; i < candidates.Count; i++)
        {
            Candidate candidate = candidates[i];
            string why;
            if (Path.IsPathRooted(candidate.Path) && !File.Exists(candidate.Path))
            {
                why = "no such file";
            }
            else
            {
                try
                {
                    return (load(candidate.Path), candidate.Path);
                }
                catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or IOException)
                {
                    why = Reason(e);
                }
            }
            report.Append($"{Environment.NewLine}  {i + 1}. {candidate.Path} ({candidate.Source}): {why}");
        }
        report.Append(
            $"{Environment.NewLine}Set {EnvironmentVariable} to the library or its folder, or build it: " +
            "cmake -S . -B build/native && cmake --build build/native --target worldpm");
        throw new DllNotFoundException(report.ToString());
    }

    /// <summary>
    /// The loader's own words without the runtime's boilerplate: its message is a generic first line
    /// followed by one dlerror line per path it probed. Lines that only say a probed file is absent are
    /// dropped, so what is left is the real failure ("file too short", a missing dependency...).
    /// </summary>
    private static string Reason(Exception e)
    {
        string[] lines = e.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length <= 1) return e.Message.Trim();
        string[] real = lines.Skip(1).Where(l => !l.EndsWith("No such file or directory", StringComparison.Ordinal)).ToArray();
        return real.Length > 0 ? string.Join("; ", real) : "not found";
    }

    private static nint LoadOrDefault(string path, Assembly assembly, DllImportSearchPath? searchPath) =>
        Path.IsPathRooted(path) ? NativeLibrary.Load(path) : NativeLibrary.Load(path, assembly, searchPath);

    private static unsafe void CheckVersion(nint handle, string path)
    {
        if (!NativeLibrary.TryGetExport(handle, nameof(NativeMethods.wpm_version), out nint export))
        {
            NativeLibrary.Free(handle);
            throw new WorldPMException($"'{path}' loaded but exports no wpm_version: it is not the WorldPM library.");
        }
        uint version = ((delegate* unmanaged<uint>)export)();
        try
        {
            AbiVersion.EnsureCompatible(version, path);
        }
        catch
        {
            NativeLibrary.Free(handle);
            throw;
        }
    }
}
