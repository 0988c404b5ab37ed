namespace WorldPM.Tests.Data;

/// <summary>
/// The real preference data in <c>shared/data</c> next to the repository: found by walking up from
/// the test assembly to the folder holding WorldPM.sln. Missing data fails the test (<see cref="Root"/>);
/// only the slow training checks on it skip instead (<see cref="RootOrIgnore"/>).
/// </summary>
internal static class SharedData
{
    public static string Root
    {
        get
        {
            string data = Expected();
            if (!Directory.Exists(data))
                Assert.Fail($"The shared preference data is missing: expected it at {data} (../shared/data from the repository root).");
            return data;
        }
    }

    /// <summary>The data folder, or the test ignored (with a message saying where it looked) when it is absent.</summary>
    public static string RootOrIgnore()
    {
        string data = Expected();
        if (!Directory.Exists(data))
            Assert.Ignore($"../shared/data is absent (looked at {data}); this check needs the real data, present here and in CI.");
        return data;
    }

    private static string Expected()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "WorldPM.sln")))
                return Path.GetFullPath(Path.Combine(folder.FullName, "..", "shared", "data"));
        }
        Assert.Fail($"No WorldPM.sln above {AppContext.BaseDirectory}, so shared/data cannot be found.");
        return "";
    }

    public static string PathOf(string relative) => Path.Combine(Root, relative);
}
