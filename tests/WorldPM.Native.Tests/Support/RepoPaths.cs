namespace WorldPM.Native.Tests.Support;

/// <summary>Files of the source tree, found by walking up from the test assembly to the repository root.</summary>
internal static class RepoPaths
{
    internal static string Root { get; } = FindRoot();

    internal static string Header => Path.Combine(Root, "native", "include", "worldpm.h");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "native", "include", "worldpm.h"))) return dir.FullName;
        }
        throw new InvalidOperationException(
            $"no native/include/worldpm.h above {TestContext.CurrentContext.TestDirectory}: run the tests from the source tree");
    }
}
