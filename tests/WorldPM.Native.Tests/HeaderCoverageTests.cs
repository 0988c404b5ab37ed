using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using WorldPM.Native.Interop;
using WorldPM.Native.Tests.Support;

namespace WorldPM.Native.Tests;

/// <summary>The bindings and worldpm.h describe the same functions and enum values.</summary>
[TestFixture]
public sealed partial class HeaderCoverageTests
{
    /// <summary>name -> parameter count, from every <c>WPM_API ret name(params);</c> of the header.</summary>
    private static Dictionary<string, int> HeaderFunctions()
    {
        string header = File.ReadAllText(RepoPaths.Header);
        var functions = new Dictionary<string, int>();
        foreach (Match m in Declaration().Matches(header))
        {
            string parameters = m.Groups["params"].Value.Trim();
            functions.Add(m.Groups["name"].Value, parameters is "void" or "" ? 0 : parameters.Split(',').Length);
        }
        return functions;
    }

    private static Dictionary<string, MethodInfo> Declarations() =>
        typeof(NativeMethods).GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(m => m.GetCustomAttribute<LibraryImportAttribute>() is not null)
            .ToDictionary(m => m.GetCustomAttribute<LibraryImportAttribute>()!.EntryPoint ?? m.Name);

    [Test]
    public void TheHeaderParsesIntoFunctions()
    {
        Assert.That(HeaderFunctions(), Has.Count.GreaterThan(40));
    }

    [Test]
    public void EveryHeaderFunctionHasALibraryImport()
    {
        Assert.That(HeaderFunctions().Keys.Except(Declarations().Keys), Is.Empty);
    }

    [Test]
    public void EveryLibraryImportNamesAHeaderFunction()
    {
        Assert.That(Declarations().Keys.Except(HeaderFunctions().Keys), Is.Empty);
    }

    [Test]
    public void EveryLibraryImportTakesAsManyParametersAsTheHeaderSays()
    {
        Dictionary<string, MethodInfo> declarations = Declarations();
        var mismatches = HeaderFunctions()
            .Where(f => declarations.TryGetValue(f.Key, out var m) && m.GetParameters().Length != f.Value)
            .Select(f => $"{f.Key}: header {f.Value}, C# {declarations[f.Key].GetParameters().Length}");
        Assert.That(mismatches, Is.Empty);
    }

    [Test]
    public void EveryLibraryImportTargetsTheWorldPMLibrary()
    {
        Assert.That(Declarations().Values.Select(m => m.GetCustomAttribute<LibraryImportAttribute>()!.LibraryName),
            Is.All.EqualTo("worldpm"));
    }

    [Test]
    public void TheLoadedLibraryExportsEveryHeaderFunction()
    {
        nint library = NativeLibrary.Load(WorldPMContext.NativeLibraryPath);
        try
        {
            Assert.That(HeaderFunctions().Keys.Where(name => !NativeLibrary.TryGetExport(library, name, out _)), Is.Empty);
        }
        finally
        {
            NativeLibrary.Free(library);
        }
    }

    /// <summary>Each C enumerator and the C# member that stands for it.</summary>
    private static readonly Dictionary<string, int> ManagedEnumerators = new()
    {
        ["WPM_OK"] = (int)WorldPMStatus.Ok,
        ["WPM_ERR_INVALID_ARGUMENT"] = (int)WorldPMStatus.InvalidArgument,
        ["WPM_ERR_DTYPE"] = (int)WorldPMStatus.DType,
        ["WPM_ERR_OUT_OF_MEMORY"] = (int)WorldPMStatus.OutOfMemory,
        ["WPM_ERR_BACKEND_UNAVAILABLE"] = (int)WorldPMStatus.BackendUnavailable,
        ["WPM_ERR_UNSUPPORTED"] = (int)WorldPMStatus.Unsupported,
        ["WPM_ERR_WRONG_CONTEXT"] = (int)WorldPMStatus.WrongContext,
        ["WPM_ERR_INTERNAL"] = (int)WorldPMStatus.Internal,
        ["WPM_ERR_COMM"] = (int)WorldPMStatus.Comm,
        ["WPM_REDUCE_SUM"] = (int)ReduceOp.Sum,
        ["WPM_REDUCE_MEAN"] = (int)ReduceOp.Mean,
        ["WPM_BACKEND_AUTO"] = (int)Backend.Auto,
        ["WPM_BACKEND_CPU"] = (int)Backend.Cpu,
        ["WPM_BACKEND_CUDA"] = (int)Backend.Cuda,
        ["WPM_BACKEND_EMU"] = (int)Backend.Emu,
        ["WPM_F32"] = (int)DType.F32,
        ["WPM_F16"] = (int)DType.F16,
        ["WPM_BF16"] = (int)DType.BF16,
        ["WPM_I32"] = (int)DType.I32,
        ["WPM_GELU_TANH"] = (int)GeluKind.Tanh,
        ["WPM_GELU_EXACT"] = (int)GeluKind.Exact,
        ["WPM_HEAD_GELU_TANH"] = (int)PreferenceHeadActivation.GeluTanh,
        ["WPM_HEAD_GELU_EXACT"] = (int)PreferenceHeadActivation.GeluExact,
        ["WPM_HEAD_RELU"] = (int)PreferenceHeadActivation.Relu,
        ["WPM_PAD_RIGHT"] = (int)Padding.Right,
        ["WPM_PAD_LEFT"] = (int)Padding.Left,
    };

    [Test]
    public void EveryHeaderEnumeratorHasAManagedMemberOfTheSameValue()
    {
        var header = Enumerator().Matches(File.ReadAllText(RepoPaths.Header))
            .ToDictionary(m => m.Groups["name"].Value, m => int.Parse(m.Groups["value"].Value));
        Assert.That(ManagedEnumerators, Is.EquivalentTo(header));
    }

    [GeneratedRegex(@"WPM_API\s+(?:const\s+)?\w+\s*\**\s*(?<name>wpm_\w+)\s*\((?<params>[^)]*)\)")]
    private static partial Regex Declaration();

    [GeneratedRegex(@"^\s*(?<name>WPM_[A-Z0-9_]+)\s*=\s*(?<value>\d+)", RegexOptions.Multiline)]
    private static partial Regex Enumerator();
}
