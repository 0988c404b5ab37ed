using WorldPM.Data;

namespace WorldPM.Tests.Data;

public class ExternalSortTests
{
    private static readonly IComparer<long> Ascending = Comparer<long>.Default;

    [TestCase(8 * 5, 10_000)]       // 5 records a run: 2,000 runs, each merged through a one-record buffer
    [TestCase(8 * 1_000, 10_000)]   // 10 runs of 1,000, each through a 100-record buffer
    [TestCase(8 * 20_000, 10_000)]  // one run, in memory
    [TestCase(8 * 5, 0)]
    public void SortsAsArraySortDoesWhateverTheBudget(long budgetBytes, int count)
    {
        var random = new Random(count + (int)budgetBytes);
        var values = Enumerable.Range(0, count).Select(_ => random.NextInt64(long.MinValue, long.MaxValue)).ToArray();
        using var folder = new TempFolder();
        using var sort = new ExternalSort<long>(Ascending, budgetBytes, folder.Path);
        foreach (var value in values) sort.Add(value);

        var sorted = sort.Sorted().ToArray();

        var expected = (long[])values.Clone();
        Array.Sort(expected);
        Assert.That(sorted, Is.EqualTo(expected));
        var runsExpected = count <= budgetBytes / 8 ? 0 : (count + budgetBytes / 8 - 1) / (budgetBytes / 8);
        Assert.That(sort.SpilledRuns, Is.EqualTo(runsExpected));
    }

    [Test]
    public void TheScratchFileIsGoneOnceDisposedEvenMidMerge()
    {
        using var folder = new TempFolder();
        using (var sort = new ExternalSort<long>(Ascending, 8 * 4, folder.Path))
        {
            for (long i = 100; i > 0; i--) sort.Add(i);
            using var merged = sort.Sorted().GetEnumerator();
            Assert.That(merged.MoveNext(), Is.True);
            Assert.That(merged.Current, Is.EqualTo(1));
            Assert.That(Directory.GetFiles(folder.Path), Has.Length.EqualTo(1));
        }
        Assert.That(Directory.GetFiles(folder.Path), Is.Empty);
    }

    [Test]
    public void ABudgetBelowOneRecordIsRefusedNamingIt()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ExternalSort<long>(Ascending, 7, null));
        Assert.That(error!.ParamName, Is.EqualTo("budgetBytes"));
    }
}
