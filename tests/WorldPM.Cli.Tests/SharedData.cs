namespace WorldPM.Cli.Tests;

/// <summary>The shared data sets: ../shared/data next to the repository root (the directory holding WorldPM.sln).</summary>
public static class SharedData
{
    public static string Directory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "WorldPM.sln")))
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
        }
        Assert.Fail($"no WorldPM.sln above {AppContext.BaseDirectory}: cannot find the repository root and its ../shared/data");
        return "";
    }
}
