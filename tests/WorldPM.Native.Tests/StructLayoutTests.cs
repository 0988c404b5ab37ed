using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using WorldPM.Native.Interop;
using WorldPM.Native.Tests.Support;

namespace WorldPM.Native.Tests;

/// <summary>
/// Every parameter struct of <see cref="NativeMethods"/> has the size and field offsets of its C twin, as the C
/// compiler that builds the library lays it out: a small C program prints sizeof/offsetof for each.
/// </summary>
[TestFixture]
public sealed class StructLayoutTests
{
    private static readonly Type[] Structs =
        typeof(NativeMethods).GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public)
            .Where(t => t.IsValueType && t.Name.StartsWith("wpm_", StringComparison.Ordinal)).ToArray();

    private static Dictionary<string, long>? compiled;

    /// <summary>"struct" -> sizeof and "struct.field" -> offsetof, from the C compiler.</summary>
    private static Dictionary<string, long> CLayout() => compiled ??= CompileAndRun();

    public static IEnumerable<TestCaseData> StructCases() =>
        Structs.Select(t => new TestCaseData(t).SetArgDisplayNames(t.Name));

    [Test]
    public void TheBindingsMirrorEveryParameterStructOfTheHeader()
    {
        string[] expected = ["wpm_adamw_params", "wpm_attention_params", "wpm_backend_info", "wpm_bt_loss_params", "wpm_comm_info", "wpm_comm_options",
            "wpm_context_options", "wpm_device_counters", "wpm_gemm_params", "wpm_kernel_profile", "wpm_last_token_pool_params",
            "wpm_preference_head_params", "wpm_rmsnorm_params", "wpm_rope_params", "wpm_rows_params"];
        Assert.That(Structs.Select(t => t.Name), Is.EquivalentTo(expected));
    }

    [TestCaseSource(nameof(StructCases))]
    public void HasTheSizeOfItsCTwin(Type type)
    {
        Assert.That(Marshal.SizeOf(type), Is.EqualTo(CLayout()[type.Name]));
    }

    [TestCaseSource(nameof(StructCases))]
    public void HasTheFieldOffsetsOfItsCTwin(Type type)
    {
        foreach (FieldInfo field in Fields(type))
            Assert.That((long)Marshal.OffsetOf(type, field.Name), Is.EqualTo(CLayout()[$"{type.Name}.{field.Name}"]),
                $"{type.Name}.{field.Name}");
    }

    private static IEnumerable<FieldInfo> Fields(Type type) => type.GetFields(BindingFlags.Instance | BindingFlags.Public);

    private static Dictionary<string, long> CompileAndRun()
    {
        var source = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include \"worldpm.h\"\nint main(void) {\n");
        foreach (Type type in Structs)
        {
            source.Append($"  printf(\"{type.Name} %zu\\n\", sizeof({type.Name}));\n");
            foreach (FieldInfo field in Fields(type))
                source.Append($"  printf(\"{type.Name}.{field.Name} %zu\\n\", offsetof({type.Name}, {field.Name}));\n");
        }
        source.Append("  return 0;\n}\n");

        string dir = Directory.CreateTempSubdirectory("worldpm-layout-").FullName;
        try
        {
            string c = Path.Combine(dir, "layout.c"), exe = Path.Combine(dir, "layout");
            File.WriteAllText(c, source.ToString());
            string compiler = Environment.GetEnvironmentVariable("CC") ?? "cc";
            Run(compiler, ["-std=c11", "-I", Path.Combine(RepoPaths.Root, "native", "include"), c, "-o", exe]);
            return Run(exe, []).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' '))
                .ToDictionary(parts => parts[0], parts => long.Parse(parts[1]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Run(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"{program} failed: {error}");
        return output;
    }
}
