namespace WorldPM.Testing;

/// <summary>
/// The real preference data sets (hh-rlhf, StackExchange, summarize-from-feedback, LLMBar). They are far too big for
/// the repository, so they live beside the checkout, in ../shared/data from the folder that holds WorldPM.sln: CI has
/// that folder, a plain clone does not. A test that reads them asks here, and is skipped with a one-line reason when
/// the folder is absent; when it is present, a missing file inside it is a real failure of the test. This is the one
/// place the test projects look outside the repository (RepositoryTests.NothingOutsideTheRepositoryIsCited holds that).
/// </summary>
public static class SharedData
{
    /// <summary>The data folder; the calling test is skipped (Assert.Ignore) when it does not exist.</summary>
    public static string Root
    {
        get
        {
            string data = Path.Combine(Path.GetDirectoryName(RepositoryRoot)!, "shared", "data");
            if (!Directory.Exists(data))
                Assert.Ignore($"../shared/data is absent: {data} holds the real data sets this test reads (not part of the repository; CI has it).");
            return data;
        }
    }

    /// <summary>A file or folder inside the data folder (skipping the test when the folder is absent).</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>The repository root: the first folder above the test assembly that holds WorldPM.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "WorldPM.sln")))
                    return folder.FullName;
            }
            throw new InvalidOperationException($"No WorldPM.sln above {AppContext.BaseDirectory}: run the tests from the source tree.");
        }
    }
}
