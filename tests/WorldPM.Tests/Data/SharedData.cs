namespace WorldPM.Tests.Data;

/// <summary>
/// The real preference data in <c>shared/data</c> next to the repository: found by walking up from
/// the test assembly to the folder holding WorldPM.sln. Missing data fails the test, never skips it.
/// </summary>
internal static class SharedData
{
    public static string Root
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "WorldPM.sln")))
                {
                    var data = Path.GetFullPath(Path.Combine(folder.FullName, "..", "shared", "data"));
                    if (!Directory.Exists(data))
                    {
                        Assert.Fail($"The shared preference data is missing: expected it at {data} (../shared/data from the repository root).");
                    }
                    return data;
                }
            }
            Assert.Fail($"No WorldPM.sln above {AppContext.BaseDirectory}, so shared/data cannot be found.");
            return "";
        }
    }

    public static string PathOf(string relative) => Path.Combine(Root, relative);
}
