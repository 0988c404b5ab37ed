using System.Diagnostics;
using System.Text.RegularExpressions;

namespace WorldPM.Tests;

/// <summary>
/// The repository stands on its own: what its files cite, a clone has. Design notes live in docs/; the only
/// things outside the checkout a file may name are the real data sets, and only where they are located
/// (<see cref="SharedData"/>) or needed by a script run by hand.
/// </summary>
public partial class RepositoryTests
{
    /// <summary>Files allowed to name the folder beside the checkout: the tests' data lookup and the manual real-data check.</summary>
    private static readonly string[] DataLocators = ["tests/Shared/SharedData.cs", "scripts/check_real_data.sh"];

    // The planning notes that once sat beside the repository, by file name, and any path into that folder.
    // (Written so that this file does not match its own patterns.)
    [GeneratedRegex(@"\b(?:DESIGN|STYLE|EMULATOR)\.md\b")]
    private static partial Regex OutsideNote();

    [GeneratedRegex(@"\.\./shared\b|\bshared/(?:data|hooks)\b")]
    private static partial Regex OutsideFolder();

    [Test]
    public void NothingOutsideTheRepositoryIsCited()
    {
        string root = SharedData.RepositoryRoot;
        var hits = new List<string>();
        foreach (string file in RepositoryFiles(root))
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(root, file));
            if (Array.IndexOf(bytes, (byte)0, 0, Math.Min(bytes.Length, 8000)) >= 0) continue;  // binary (images)
            string[] lines = System.Text.Encoding.UTF8.GetString(bytes).Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                bool note = OutsideNote().IsMatch(lines[i]);
                bool folder = OutsideFolder().IsMatch(lines[i]) && !DataLocators.Contains(file);
                if (note || folder) hits.Add($"{file}:{i + 1}: {lines[i].Trim()}");
            }
        }
        Assert.That(hits, Is.Empty,
            "these lines cite documents or folders a clone does not have; cite docs/ instead (the data sets only through " +
            $"tests/Shared/SharedData.cs):\n{string.Join("\n", hits)}");
    }

    [Test]
    public void EveryDocsSectionACitationNamesExists()
    {
        // Citations read: docs/<name>.md, '<section>' (one or more quoted sections, separated by commas or "and").
        string root = SharedData.RepositoryRoot;
        var citation = new Regex(@"docs/([a-z0-9-]+\.md)((?:(?:,\s*|\s+and\s+)[""'][^""']+[""'])+)");
        var missing = new List<string>();
        int checkedCount = 0;
        foreach (string file in RepositoryFiles(root))
        {
            foreach (Match m in citation.Matches(File.ReadAllText(Path.Combine(root, file))))
            {
                string doc = Path.Combine(root, "docs", m.Groups[1].Value);
                string[] headings = File.Exists(doc)
                    ? [.. File.ReadLines(doc).Where(l => l.StartsWith('#')).Select(l => l.TrimStart('#').Trim())]
                    : [];
                foreach (Match section in Regex.Matches(m.Groups[2].Value, @"[""']([^""']+)[""']"))
                {
                    checkedCount++;
                    string name = Regex.Replace(section.Groups[1].Value, @"\s+", " ");  // Markdown may wrap a name
                    if (!headings.Contains(name))
                        missing.Add($"{file}: docs/{m.Groups[1].Value}, '{name}'");
                }
            }
        }
        Assert.That(missing, Is.Empty, "cited sections that docs/ does not have:\n" + string.Join("\n", missing));
        Assert.That(checkedCount, Is.GreaterThan(0), "no citation of a docs/ section was found: is the pattern still right?");
    }

    /// <summary>Tracked files plus new ones not ignored (so a file is checked before it is committed), relative, with '/'.
    /// Outside a git checkout (a source archive), every file under the root but build outputs.</summary>
    private static IEnumerable<string> RepositoryFiles(string root)
    {
        if (Path.Exists(Path.Combine(root, ".git")))
        {
            var start = new ProcessStartInfo("git", ["-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "-z"])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using Process git = Process.Start(start)!;
            string output = git.StandardOutput.ReadToEnd();
            git.WaitForExit();
            Assert.That(git.ExitCode, Is.Zero, "git ls-files failed");
            return output.Split('\0', StringSplitOptions.RemoveEmptyEntries).Where(f => File.Exists(Path.Combine(root, f)));
        }
        string[] skipped = ["/.git/", "/build/", "/bin/", "/obj/", "/node_modules/", "/TestResults/"];
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !skipped.Any(s => ("/" + f).Contains(s, StringComparison.Ordinal)));
    }
}
