namespace WorldPM.Tests.Fuzzing;

/// <summary>
/// A seeded mutation loop over every reader of user files (<see cref="ReaderTarget.All"/>): damaged seeds must
/// be refused with the exception types each reader documents, never a NullReference-, IndexOutOfRange-, Overflow-
/// or InvalidOperationException, an out-of-memory, or a hang (a per-input time limit).
///
/// First the regression inputs of earlier findings are replayed (tests/fuzz/managed/TARGET/CASE/, the files of
/// the case replacing the seeds of the same name); then mutations run for the time budget,
/// WORLDPM_FUZZ_MANAGED_SECONDS (for all targets together, default 20). WORLDPM_FUZZ_SEED chooses the seed
/// (default 1234, printed); the same seed gives the same inputs in the same order. A failing input
/// is kept under the test's work folder (fuzz-findings/), and its path, seed and index are in the message.
/// </summary>
[BackendNeutral]
public class ReaderFuzzTests
{
    private static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(10);

    private static IEnumerable<ReaderTarget> Targets() => ReaderTarget.All();

    private static double BudgetSeconds =>
        double.TryParse(Environment.GetEnvironmentVariable("WORLDPM_FUZZ_MANAGED_SECONDS"), System.Globalization.CultureInfo.InvariantCulture,
            out var s) && s >= 0 ? s : 20;

    private static readonly int RunSeed =
        int.TryParse(Environment.GetEnvironmentVariable("WORLDPM_FUZZ_SEED"), out var seed) ? seed : DefaultSeed;

    /// <summary>The seed of a run that names none: fixed, so the suite gives the same inputs on every run and a CI
    /// failure is one anyone can replay; set WORLDPM_FUZZ_SEED to explore others.</summary>
    private const int DefaultSeed = 1234;

    [TestCaseSource(nameof(Targets))]
    public void DamagedInputIsRefusedWithTheDocumentedExceptions(ReaderTarget target)
    {
        var failures = new List<string>();
        foreach (var (name, files) in Regressions(target))
            Check(target, files, $"regression {name}", failures);
        // A stable per-target stream (string.GetHashCode differs between runs).
        var random = new Random(RunSeed ^ target.Name.Aggregate(17, (h, c) => h * 31 + c));
        var mutator = new ByteMutator(random);
        var seeds = target.Seeds.Select(s => s.Bytes).ToList();
        var budget = TimeSpan.FromSeconds(BudgetSeconds / ReaderTarget.All().Count);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int inputs = 0;
        while (clock.Elapsed < budget && failures.Count < 5)
        {
            int which = random.Next(target.Seeds.Count);
            var files = target.Seeds.ToDictionary(s => s.File, s => s.Bytes);
            files[target.Seeds[which].File] = mutator.Mutate(target.Seeds[which].Bytes, seeds);
            Check(target, files, $"input {inputs} of seed {RunSeed}", failures);
            ++inputs;
        }
        TestContext.Out.WriteLine($"{target.Name}: {inputs} inputs in {clock.Elapsed.TotalSeconds:F1} s, seed {RunSeed} (WORLDPM_FUZZ_SEED)");
        Assert.That(failures, Is.Empty, $"{target.Name} with WORLDPM_FUZZ_SEED={RunSeed}:\n" + string.Join("\n", failures));
    }

    /// <summary>Runs the reader on the files in a fresh folder; an undocumented exception or a hang is a failure, kept on disk.</summary>
    private static void Check(ReaderTarget target, IReadOnlyDictionary<string, byte[]> files, string label, List<string> failures)
    {
        var folder = Directory.CreateTempSubdirectory("worldpm-fuzz-").FullName;
        try
        {
            foreach (var (file, bytes) in files)
                File.WriteAllBytes(Path.Combine(folder, file), bytes);
            var read = Task.Run(() => target.Read(folder));
            string? problem = null;
            try
            {
                if (!read.Wait(PerInputLimit))
                    problem = $"no answer within {PerInputLimit.TotalSeconds} s";
            }
            catch (AggregateException e) when (e.InnerException is { } inner && !target.IsDocumented(inner))
            {
                problem = $"{inner.GetType().Name}: {inner.Message}\n{inner.StackTrace}";
            }
            catch (AggregateException)
            {
                // a documented refusal
            }
            if (problem is not null)
                failures.Add($"{label}: {problem}\n  input kept in {Keep(target, files, label)}");
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } // a hung reader may hold a file
        }
    }

    private static string Keep(ReaderTarget target, IReadOnlyDictionary<string, byte[]> files, string label)
    {
        var kept = Path.Combine(TestContext.CurrentContext.WorkDirectory, "fuzz-findings", target.Name, label.Replace(' ', '-'));
        Directory.CreateDirectory(kept);
        foreach (var (file, bytes) in files)
        {
            if (!target.Seeds.Any(s => s.File == file && s.Bytes.AsSpan().SequenceEqual(bytes)))
                File.WriteAllBytes(Path.Combine(kept, file), bytes);
        }
        return kept;
    }

    /// <summary>The kept inputs of earlier findings: each case folder's files replace the seeds of the same name.</summary>
    private static IEnumerable<(string Name, Dictionary<string, byte[]> Files)> Regressions(ReaderTarget target)
    {
        var root = Path.Combine(SharedData.RepositoryRoot, "tests", "fuzz", "managed", target.Name);
        if (!Directory.Exists(root))
            yield break;
        foreach (var caseFolder in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var files = target.Seeds.ToDictionary(s => s.File, s => s.Bytes);
            foreach (var file in Directory.GetFiles(caseFolder))
                files[Path.GetFileName(file)] = File.ReadAllBytes(file);
            yield return (Path.GetFileName(caseFolder), files);
        }
    }
}
